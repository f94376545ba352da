/**
 * `falconer up [--demo]` runs the platform on this machine: every agent as its
 * own process on loopback, with a dev PKI, restarted when it crashes, stopped
 * cleanly on Ctrl-C. `--demo` replays a generated attack scenario into the
 * ingest and prints what the platform made of it.
 * `falconer demo --json` does the same in a fresh data directory, prints the
 * report as JSON and exits (non-zero if any part of the platform failed).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import type { FalconerConfig } from '../../config/schema.ts';
import type { PlatformReport } from '../../demo/platform-report.ts';
import { integer, positiveNumber } from '../options.ts';
import type { CommandRegistrar } from '../registry.ts';

interface PlatformOptions {
  config?: string;
  port?: number;
  dataDir?: string;
  seed: number;
  minutes: number;
  rate: number;
  replayRate: number;
  json?: boolean;
  quiet?: boolean;
}

function reportText(r: PlatformReport): string {
  const lines = [
    `events ${r.events} (rejected ${r.rejected}), forwarded ${r.forwarded}, signals ${r.signals}`,
    `incidents ${r.incidents} (${r.falsePositiveIncidents} on benign workloads), actions proposed ${r.actionsProposed}, notifications ${r.notifications}`,
    `trace ids consistent across agents: ${r.traceIdsConsistent ? 'yes' : 'NO'}`,
    'attacks:',
    ...r.attacks.map(
      (a) =>
        `  ${a.detected ? 'DETECTED' : 'missed  '} ${a.kind.padEnd(22)} ${a.technique.padEnd(10)} ` +
        (a.incidentId ? `incident ${a.incidentId} after ${a.msToIncident} ms` : ''),
    ),
    ...r.failures.map((f) => `FAILED: ${f}`),
  ];
  return lines.join('\n');
}

async function startPlatform(config: FalconerConfig, opts: PlatformOptions) {
  const { launchPlatform } = await import('../../platform/launch.ts');
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(`${line}\n`);
  };
  say(`falconer: starting 5 agents and the MCP tool server (state in ${config.dataDir})`);
  const platform = await launchPlatform({
    config,
    configFile: opts.config,
    env: opts.port !== undefined ? { FALCONER_INGEST_PORT: String(opts.port) } : {},
    onEvent: (e) => {
      if (e.kind === 'exited' && e.restartInMs !== null)
        say(
          `falconer: agent ${e.name} exited (code ${e.code}, signal ${e.signal}); restarting in ${e.restartInMs} ms`,
        );
    },
  });
  const ep = platform.endpoints;
  say(
    [
      `falconer: ingest   ${ep.ingest}  (Falco http_output / falcosidekick webhook)`,
      `          API      ${ep.api}/incidents  (Authorization: Bearer $(cat ${ep.apiTokenFile}))`,
      `          MCP      ${ep.mcp.url}  (Authorization: Bearer $(cat ${ep.mcp.tokenFile}); docs/mcp.md)`,
      `          metrics  ${Object.entries(ep.metrics)
        .map(([a, u]) => `${a} ${u}`)
        .join(', ')}`,
      `          logs     ${join(platform.dataDir, 'logs')}/<agent>.log`,
    ].join('\n'),
  );
  return platform;
}

async function runDemo(
  platform: Awaited<ReturnType<typeof startPlatform>>,
  config: FalconerConfig,
  opts: PlatformOptions,
) {
  const { runPlatformDemo } = await import('../../demo/platform-demo.ts');
  let last = 0;
  return runPlatformDemo(platform, {
    seed: opts.seed,
    minutes: opts.minutes,
    rate: opts.rate,
    replayRate: opts.replayRate,
    cluster: config.cluster,
    onProgress: (line) => {
      if (opts.quiet || Date.now() - last < 1_000) return;
      last = Date.now();
      process.stderr.write(`falconer demo: ${line}\n`);
    },
  });
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function demoOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--port <port>', 'ingest port (default from config: 2801)', integer(0))
    .option('--seed <n>', 'demo scenario seed', integer(0), 7)
    .option('--minutes <m>', 'demo scenario length in minutes of event time', positiveNumber, 20)
    .option('--rate <r>', 'demo background alerts per second of event time', positiveNumber, 100)
    .option('--replay-rate <r>', 'demo replay speed in events per second of wall time', positiveNumber, 5000);
}

export const registerUpCommand: CommandRegistrar = (program) => {
  demoOptions(
    program
      .command('up')
      .description(
        'Run the platform on this machine: every agent as its own process; --demo replays an attack scenario',
      ),
  )
    .option('--data-dir <dir>', 'state directory (default from config: .falconer)')
    .option('--demo', 'replay a generated scenario into the ingest and report what the platform did')
    .option('--exit', 'exit after the demo instead of serving on')
    .option('--json', 'print the demo report as JSON on stdout')
    .action(async (opts: PlatformOptions & { demo?: boolean; exit?: boolean }) => {
      const config = loadConfig({
        file: opts.config,
        overrides: { dataDir: opts.dataDir, 'ingest.port': opts.port },
      });
      const platform = await startPlatform(config, opts);
      try {
        if (opts.demo) {
          const report = await runDemo(platform, config, opts);
          process.stdout.write(
            opts.json ? `${JSON.stringify(report, null, 2)}\n` : `\n${reportText(report)}\n\n`,
          );
          if (report.failures.length > 0) process.exitCode = 1;
          if (opts.exit) return;
        }
        process.stderr.write('falconer: serving; Ctrl-C to stop\n');
        await untilSignalled();
      } finally {
        process.stderr.write('falconer: stopping\n');
        await platform.stop();
      }
    });

  demoOptions(
    program
      .command('demo')
      .description(
        'Start the platform in a fresh data directory, replay a seeded scenario, print the report, exit',
      ),
  )
    .option('--data-dir <dir>', 'state directory (default: a new temporary one)')
    .option('--json', 'print the report as JSON')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts: PlatformOptions) => {
      const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'falconer-demo-'));
      const config = loadConfig({ file: opts.config, overrides: { dataDir, 'ingest.port': opts.port } });
      const platform = await startPlatform(config, opts);
      let report: PlatformReport;
      try {
        report = await runDemo(platform, config, opts);
      } finally {
        await platform.stop();
      }
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${reportText(report)}\n`);
      if (report.failures.length > 0) process.exitCode = 1;
    });
};
