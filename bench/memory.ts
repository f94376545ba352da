/**
 * Resident memory of the detect agent across a long replay (not a test):
 * starts `falconer up` as a child process (a supervisor with the five agents as
 * its own children, on free loopback ports), replays a generated scenario of
 * --events alerts (default 10 million) into detect's HTTP ingest, and samples
 * the detect agent's RSS from /proc (it holds the ingest, the bus and the gate).
 * Memory must stay flat (bounded sketches, capped maps, evicted signals) and
 * under 300 MB.
 *   node --import tsx bench/memory.ts [--events N] [--write]
 */
import { spawn } from 'node:child_process';
import { execSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHttpTarget } from '../src/ingest/http-target.ts';
import { replayStream } from '../src/ingest/replay.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { alertLine } from '../src/scenario/serialize.ts';
import { platformPorts } from '../test/support/platform-env.ts';
import { loadAverage, machineInfo } from './machine.ts';
import { hasFlag, numberFlag } from './args.ts';

const total = numberFlag('--events', 10_000_000);
/**
 * Detect also keeps recent events for context and backtests (the event store), bounded by its own
 * eventStore.maxBytes (default 256 MiB), which adds to the gate's footprint; this run caps it here
 * so the figure is the pipeline's plus a small store.
 */
const EVENT_STORE_MB = numberFlag('--event-store-mb', 32);
const RATE = 2000;
const LIMIT_MB = 300;

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The detect agent: the child of `falconer up` started as `falconer agent detect` (looked up again after a restart). */
function detectPid(supervisorPid: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== supervisorPid) continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('agent');
      if (i !== -1 && argv[i + 1] === 'detect') return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

async function* lines(): AsyncGenerator<string> {
  const minutes = Math.ceil(total / RATE / 60) + 5;
  let n = 0;
  let chunk: string[] = [];
  for (const { alert } of generateScenario({ seed: 5, minutes, rate: RATE })) {
    chunk.push(alertLine(alert));
    n += 1;
    if (chunk.length === 1000 || n === total) {
      yield `${chunk.join('\n')}\n`;
      chunk = [];
    }
    if (n === total) return;
  }
}

async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const dataDir = mkdtempSync(join(tmpdir(), 'falconer-mem-'));
const ports = await platformPorts();
const child = spawn(process.execPath, ['bin/falconer.js', 'up', '--data-dir', dataDir], {
  env: {
    ...process.env,
    ...ports.env,
    FALCONER_LOG_LEVEL: 'warn',
    FALCONER_EVENT_STORE_MAX_BYTES: String(EVENT_STORE_MB * 1024 * 1024),
    FALCONER_INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '10000000',
    FALCONER_INGEST_RATE_LIMIT_BURST: '10000000',
    FALCONER_INGEST_RATE_LIMIT_PER_CLIENT_EVENTS_PER_SECOND: '10000000',
    FALCONER_INGEST_RATE_LIMIT_PER_CLIENT_BURST: '10000000',
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const ingestUrl = await new Promise<string>((resolve, reject) => {
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    // Printed once every agent is ready.
    const m = /ingest\s+(http:\/\/\S+\/events)/.exec(err);
    if (m?.[1]) resolve(m[1]);
  });
  child.once('exit', (code) => reject(new Error(`falconer up exited with ${code}: ${err.slice(-2000)}`)));
});
let pid = detectPid(child.pid as number);
if (pid === undefined) throw new Error('no `falconer agent detect` child of `falconer up` found');
// Counters live on detect's ops server, not on the ingest.
const metricsUrl = `http://127.0.0.1:${ports.ops.detect}/metrics`;
const detectRssMb = (): number => {
  try {
    return rssMb(pid as number);
  } catch {
    // detect was restarted by the supervisor: follow the new process
    pid = detectPid(child.pid as number);
    return pid === undefined ? NaN : rssMb(pid);
  }
};
const samples: { events: number; seconds: number; rssMb: number }[] = [];
const started = Date.now();
let sent = 0;
const sampler = setInterval(() => {
  samples.push({
    events: sent,
    seconds: (Date.now() - started) / 1000,
    rssMb: Number(detectRssMb().toFixed(1)),
  });
}, 2000);
const loadStart = loadavg();
const summary = await replayStream(lines(), createHttpTarget({ url: ingestUrl }), {
  batch: 1000,
  onProgress: (p) => (sent = p.sent),
  progressIntervalMs: 500,
});
// Wait until the gate has taken every event the ingest accepted.
const received = await metricValue(metricsUrl, 'falconer_events_received_total');
for (let i = 0; i < 600; i++) {
  const gated =
    (await metricValue(metricsUrl, 'falconer_events_scored_total')) +
    (await metricValue(metricsUrl, 'falconer_gate_warmup_events_total'));
  if (gated >= summary.accepted) break;
  await new Promise((r) => setTimeout(r, 1000));
}
clearInterval(sampler);
const finalRss = detectRssMb();
samples.push({ events: sent, seconds: (Date.now() - started) / 1000, rssMb: Number(finalRss.toFixed(1)) });
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dataDir, { recursive: true, force: true });

const afterWarm = samples.filter((s) => s.events >= total * 0.1);
const firstSteady = afterWarm[0]?.rssMb ?? finalRss;
const maxRss = Math.max(...samples.map((s) => s.rssMb));
const steadyMax = Math.max(...afterWarm.map((s) => s.rssMb), finalRss);
const growthMb = steadyMax - firstSteady;
// The trend, not the GC sawtooth: mean RSS over the last fifth of the run minus the mean over 10–30 %.
const meanOf = (xs: { rssMb: number }[]): number =>
  xs.reduce((a, s) => a + s.rssMb, 0) / Math.max(1, xs.length);
const early = samples.filter((s) => s.events >= total * 0.1 && s.events < total * 0.3);
const late = samples.filter((s) => s.events >= total * 0.8);
const trendMb = meanOf(late) - meanOf(early);
const result = {
  benchmark: 'memory',
  description:
    'RSS of the detect agent of `falconer up` (ingest → bus → gate, its event store capped at eventStoreMaxMb, its rule-proposal worker thread included) while a generated scenario is replayed into its HTTP ingest',
  events: summary.events,
  accepted: summary.accepted,
  rejected: summary.rejected,
  receivedByIngest: received,
  eventStoreMaxMb: EVENT_STORE_MB,
  seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
  eventsPerSecond: Math.round(summary.eventsPerSecond),
  rssMb: {
    max: maxRss,
    atTenPercent: firstSteady,
    maxAfterTenPercent: steadyMax,
    growthAfterTenPercent: Number(growthMb.toFixed(1)),
    meanAt10to30Percent: Number(meanOf(early).toFixed(1)),
    meanLastFifth: Number(meanOf(late).toFixed(1)),
    trendMb: Number(trendMb.toFixed(1)),
    final: Number(finalRss.toFixed(1)),
  },
  targets: {
    underLimit: maxRss < LIMIT_MB,
    limitMb: LIMIT_MB,
    flat: Math.abs(trendMb) < 20,
    flatToleranceMb: 20,
  },
  samples: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 60)) === 0),
  machine: {
    ...machineInfo(),
    loadAverageStart: loadAverage(loadStart),
  },
  date: new Date().toISOString(),
  commit: execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(),
};
console.log(JSON.stringify({ ...result, samples: `${result.samples.length} samples` }, null, 2));
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/memory.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}
