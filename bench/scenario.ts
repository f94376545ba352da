/**
 * Scenario generator benchmark (not a test): alerts per second generated, and
 * generated + serialized to NDJSON (alert and label lines), on one core; bytes
 * per alert; and resident memory sampled along a long stream, to show that
 * generation is streaming (flat memory, whatever the length).
 *   node --import tsx bench/scenario.ts [--minutes M] [--rate R] [--long-events N] [--write]
 * --write records the result in bench/results/scenario.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { generateScenario } from '../src/scenario/generate.ts';
import { alertLine, labelLine } from '../src/scenario/serialize.ts';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  const v = i === -1 ? NaN : Number(args[i + 1]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const minutes = flag('--minutes', 60);
const rate = flag('--rate', 200);
const longEvents = flag('--long-events', 2_000_000);

function cpuSeconds(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

function measure(
  serialize: boolean,
  seed: number,
): { events: number; wallS: number; cpuS: number; bytes: number } {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let events = 0;
  let bytes = 0;
  for (const { alert, label } of generateScenario({ seed, minutes, rate })) {
    events++;
    if (serialize) bytes += alertLine(alert).length + labelLine(label).length + 2;
  }
  return { events, wallS: (performance.now() - t0) / 1000, cpuS: cpuSeconds(c0), bytes };
}

const generateOnly = measure(false, 1);
const withLines = measure(true, 1);

// A long stream: RSS every 10 % of the way (after a GC when exposed), to show it stays flat.
const longMinutes = longEvents / rate / 60;
const rss: { events: number; rssMB: number }[] = [];
const gc = (globalThis as { gc?: () => void }).gc;
let n = 0;
const t0 = performance.now();
const c0 = process.cpuUsage();
for (const _event of generateScenario({ seed: 2, minutes: longMinutes, rate })) {
  n++;
  if (n % Math.max(1, Math.floor(longEvents / 10)) === 0) {
    gc?.();
    rss.push({ events: n, rssMB: Math.round(process.memoryUsage().rss / 1e5) / 10 });
  }
}
const longRun = {
  events: n,
  minutes: longMinutes,
  wallS: (performance.now() - t0) / 1000,
  cpuS: cpuSeconds(c0),
  rss,
};

const result = {
  bench: 'scenario-generate',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  scenario: { seed: 1, minutes, rate },
  events: generateOnly.events,
  generate: {
    eventsPerCpuSecond: Math.round(generateOnly.events / generateOnly.cpuS),
    eventsPerWallSecond: Math.round(generateOnly.events / generateOnly.wallS),
  },
  generateAndSerialize: {
    eventsPerCpuSecond: Math.round(withLines.events / withLines.cpuS),
    eventsPerWallSecond: Math.round(withLines.events / withLines.wallS),
    bytesPerEvent: Math.round(withLines.bytes / withLines.events),
  },
  longRun,
  note: 'one core; the machine is shared, so loadavg is recorded: per-CPU-second rates are the comparable figures',
};
const json = JSON.stringify(result, null, 2);
process.stdout.write(`${json}\n`);
if (args.includes('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/scenario.json', import.meta.url), `${json}\n`);
}
