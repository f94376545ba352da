/**
 * Full-pipeline throughput on one core (not a test): JSON.parse → normalize →
 * featurize → Isolation Forest score → gate (threshold, signals, scheduled
 * retraining), next to a pass that only runs JSON.parse over the same lines,
 * which is the practical ceiling. Events reach the gate as in production: the
 * embedded bus hands the detect service up to 512 events at a time and it calls
 * gate.processBatch on them, so here lines are parsed and normalized into
 * batches of 512 that go to processBatch (same decisions as process() per event). Passes are interleaved over several rounds
 * and medians compared, because shared machines are noisy.
 *   node --import tsx bench/pipeline.ts [--events N] [--rounds R] [--write]
 * --write records bench/results/pipeline.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { execSync } from 'node:child_process';
import { createNormalizer } from '../src/events/normalize.ts';
import type { NormalizedEvent } from '../src/events/types.ts';
import { Gate } from '../src/gate/gate.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { alertLine } from '../src/scenario/serialize.ts';
import { loadAverage, machineInfo } from './machine.ts';
import { hasFlag, numberFlag } from './args.ts';

const measured = numberFlag('--events', 200_000);
const rounds = numberFlag('--rounds', 5);
const WARM = 60_000;

function scenarioLines(count: number): string[] {
  const lines: string[] = [];
  // Enough event time at 200 alerts/s for the requested count.
  const minutes = Math.ceil(count / 200 / 60) + 2;
  for (const { alert } of generateScenario({ seed: 11, minutes, rate: 200 })) {
    lines.push(alertLine(alert));
    if (lines.length === count) break;
  }
  return lines;
}

const lines = scenarioLines(WARM + measured);
const warmLines = lines.slice(0, WARM);
const timedLines = lines.slice(WARM);
const bytes = timedLines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
const normalize = createNormalizer({ cluster: 'bench' });

/** Bus delivery size to the detect service (EmbeddedBus max batch). */
const BATCH = 512;

/** Parse → normalize → gate.processBatch, BATCH lines at a time; returns how many were forwarded. */
function runBatches(gate: Gate, input: readonly string[]): number {
  let forwarded = 0;
  const batch: NormalizedEvent[] = [];
  for (let start = 0; start < input.length; start += BATCH) {
    const end = Math.min(input.length, start + BATCH);
    batch.length = 0;
    for (let i = start; i < end; i++) batch.push(normalize(JSON.parse(input[i]!)));
    for (const d of gate.processBatch(batch)) if (d.forwarded) forwarded += 1;
  }
  return forwarded;
}

/** A gate past warm-up with a trained model, as in steady production. */
function warmGate(): Gate {
  const gate = new Gate({ seed: 3, warmupEvents: 20_000 });
  runBatches(gate, warmLines);
  return gate;
}

function parseOnly(): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const line of timedLines) {
    const v = JSON.parse(line) as { rule: string };
    sink += v.rule.length;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 0) throw new Error('unreachable');
  return ns;
}

function fullPipeline(gate: Gate): { ns: number; forwarded: number; retrains: number } {
  const before = gate.stats;
  const t0 = process.hrtime.bigint();
  const forwarded = runBatches(gate, timedLines);
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, forwarded, retrains: gate.stats.trainings - before.trainings };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const parseRates: number[] = [];
const pipeRates: number[] = [];
let forwardedShare = 0;
let retrains = 0;
const loadStart = loadavg();
parseOnly(); // JIT warm-up of both paths before measuring
fullPipeline(warmGate());
for (let r = 0; r < rounds; r++) {
  parseRates.push(timedLines.length / (parseOnly() / 1e9));
  const gate = warmGate();
  const run = fullPipeline(gate);
  pipeRates.push(timedLines.length / (run.ns / 1e9));
  forwardedShare = run.forwarded / timedLines.length;
  retrains = run.retrains;
}
const parseRate = median(parseRates);
const pipeRate = median(pipeRates);
const ratio = pipeRate / parseRate;
const result = {
  benchmark: 'pipeline',
  description:
    'JSON.parse → normalize → featurize → score → gate, one core, vs JSON.parse alone over the same lines; events go to Gate.processBatch in batches of 512 as the embedded bus delivers them to the detect service',
  batchSize: BATCH,
  events: timedLines.length,
  meanEventBytes: Math.round(bytes / timedLines.length),
  rounds,
  jsonParseOnly: { eventsPerSecond: Math.round(parseRate), rounds: parseRates.map(Math.round) },
  pipeline: {
    eventsPerSecond: Math.round(pipeRate),
    rounds: pipeRates.map(Math.round),
    forwardedShare,
    retrainsDuringRun: retrains,
  },
  ratioToJsonParse: Number(ratio.toFixed(3)),
  targets: {
    eventsPerSecondAtLeast100k: pipeRate >= 100_000,
    ratioAtLeast40Percent: ratio >= 0.4,
  },
  machine: {
    ...machineInfo(),
    loadAverageStart: loadAverage(loadStart),
    loadAverageEnd: loadAverage(),
  },
  date: new Date().toISOString(),
  commit: (() => {
    try {
      return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })(),
};
console.log(JSON.stringify(result, null, 2));
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/pipeline.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}
