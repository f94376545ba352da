/**
 * `falconer up [--demo]`: runs the platform on this machine with its embedded
 * defaults. Today that is the detect agent (ingest → bus → gate → signals);
 * with --demo a generated scenario is replayed into its ingest over HTTP and a
 * live summary is printed.
 */
import { startDetectService, type DetectService } from '../../agents/detect/service.ts';
import { loadConfig } from '../../config/load.ts';
import { AttackTracker } from '../../demo/attack-tracker.ts';
import { scenarioNdjson } from '../../demo/scenario-source.ts';
import { liveLine, reportText, type DemoReport } from '../../demo/summary.ts';
import { createHttpTarget } from '../../ingest/http-target.ts';
import { replayStream } from '../../ingest/replay.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { createMetricsRegistry } from '../../telemetry/metrics.ts';
import { integer, positiveNumber } from '../options.ts';
import type { CommandRegistrar } from '../registry.ts';

interface UpOptions {
  config?: string;
  port?: number;
  dataDir?: string;
  demo?: boolean;
  seed: number;
  minutes: number;
  rate: number;
  replayRate: number;
  exit?: boolean;
  json?: boolean;
}

async function runDemo(detect: DetectService, tracker: AttackTracker, opts: UpOptions, cluster: string) {
  const started = Date.now();
  let replayRejected = 0;
  let lastCount = 0;
  let lastTime = started;
  const ticker = setInterval(() => {
    const s = detect.stats();
    const now = Date.now();
    const perSecond = ((s.gate.seen - lastCount) * 1000) / Math.max(1, now - lastTime);
    lastCount = s.gate.seen;
    lastTime = now;
    process.stderr.write(`${liveLine(s, s.gate.seen, replayRejected, perSecond)}\n`);
  }, 1000);
  try {
    const summary = await replayStream(
      scenarioNdjson({ seed: opts.seed, minutes: opts.minutes, rate: opts.rate }, tracker, cluster),
      createHttpTarget({ url: detect.ingestUrl }),
      {
        rate: opts.replayRate,
        normalize: { cluster },
        onProgress: (p) => (replayRejected = p.rejected),
      },
    );
    await detect.drain();
    const s = detect.stats();
    const attacks = tracker.outcomes();
    const report: DemoReport = {
      events: summary.events,
      rejected: summary.rejected,
      scored: s.gate.scored,
      forwarded: s.gate.forwarded,
      forwardRate: s.gate.seen > 0 ? s.gate.forwarded / s.gate.seen : 0,
      signals: s.gate.signalsOpened,
      modelVersion: s.gate.modelVersion,
      attacks,
      attacksDetected: attacks.filter((a) => a.detected).length,
      benignForwarded: tracker.benignForwardedCount,
      seconds: (Date.now() - started) / 1000,
    };
    return report;
  } finally {
    clearInterval(ticker);
  }
}

export const registerUpCommand: CommandRegistrar = (program) => {
  program
    .command('up')
    .description(
      'Run the platform on this machine (embedded defaults); --demo replays a generated attack scenario',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--port <port>', 'ingest port (default from config: 2801)', integer(0))
    .option('--data-dir <dir>', 'state directory (default from config: .falconer)')
    .option('--demo', 'replay a generated scenario into the ingest and report what the gate found')
    .option('--seed <n>', 'demo scenario seed', integer(0), 7)
    .option('--minutes <m>', 'demo scenario length in minutes of event time', positiveNumber, 20)
    .option('--rate <r>', 'demo background alerts per second of event time', positiveNumber, 200)
    .option('--replay-rate <r>', 'demo replay speed in events per second of wall time', positiveNumber, 20000)
    .option('--exit', 'exit after the demo instead of serving on')
    .option('--json', 'print the demo report as JSON on stdout')
    .action(async (opts: UpOptions) => {
      const config = loadConfig({
        file: opts.config,
        overrides: {
          'ingest.port': opts.port,
          dataDir: opts.dataDir,
        },
      });
      const logger = createLogger({ level: config.log.level });
      const registry = createMetricsRegistry({ agent: 'detect' });
      const tracker = new AttackTracker();
      const detect = await startDetectService({
        config,
        registry,
        logger,
        onDecision: opts.demo ? (ev, d) => tracker.observe(ev, d) : undefined,
      });
      const base = detect.ingestUrl.replace(/\/events$/, '');
      process.stderr.write(
        `falconer up: ingest ${detect.ingestUrl} (Falco http_output / falcosidekick webhook)\n` +
          `             metrics ${base}/metrics, health ${base}/healthz, state in ${config.dataDir}\n`,
      );
      const stop = async (): Promise<void> => {
        process.stderr.write('falconer up: stopping\n');
        await detect.close();
      };
      if (opts.demo) {
        const report = await runDemo(detect, tracker, opts, config.cluster);
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else process.stdout.write(`\n${reportText(report)}\n\n`);
        if (opts.exit) {
          await stop();
          return;
        }
      }
      process.stderr.write('falconer up: serving; Ctrl-C to stop\n');
      await new Promise<void>((resolve) => {
        const onSignal = () => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          void stop().then(resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
};
