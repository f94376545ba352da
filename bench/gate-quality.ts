/**
 * Gate quality on generated scenarios (not a test): for each seed, a labelled
 * scenario is generated and run through normalize → gate ONLINE, exactly as in
 * production (warm-up, scheduled retraining on the sliding window,
 * score-then-learn, threshold calibrated to the target forward rate). Labels
 * are read only by the evaluation. Reports the forward rate, attack recall
 * (an attack counts when at least one of its events is forwarded, i.e. it
 * reaches an agent as a signal), recall per attack kind, and the event time
 * from an attack's first event to its first forwarded event.
 *
 *   node --import tsx bench/gate-quality.ts [--seeds 1,2,3,4,5,6] [--minutes 60] [--rate 200]
 *                                          [--forward-rates 0.005,0.01] [--no-write]
 *
 * Writes bench/results/gate-quality.json and bench/results/gate-quality.md.
 * Target (issue 2): at least 95 % of attacks forwarded at a forward rate of at most 1 %.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventStreamEvaluator, type EventStreamReport } from '../src/gate/eval-events.ts';
import type { GateOptions } from '../src/gate/gate.ts';
import { generateScenario, scenarioAttacks } from '../src/scenario/generate.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');
const TARGET = { recall: 0.95, maxForwardRate: 0.01 };

const args = process.argv.slice(2);
function option(name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}
function numbers(name: string, fallback: number[]): number[] {
  const v = option(name);
  if (v === undefined) return fallback;
  const xs = v.split(',').map(Number);
  if (xs.some((x) => !Number.isFinite(x)))
    throw new Error(`${name}: expected comma-separated numbers, got ${v}`);
  return xs;
}
const seeds = numbers('--seeds', [1, 2, 3, 4, 5, 6]);
const minutes = numbers('--minutes', [60])[0]!;
const rate = numbers('--rate', [200])[0]!;
const forwardRates = numbers('--forward-rates', [0.005, 0.01]);
const write = !args.includes('--no-write');

interface RunResult {
  seed: number;
  forwardRateTarget: number;
  wallMs: number;
  report: EventStreamReport;
  /** Attacks the gate missed, with their kind and variant (from the scenario's manifest). */
  missed: { id: string; kind: string; variant: string; events: number }[];
}

function runOne(seed: number, forwardRate: number): RunResult {
  const gate: GateOptions = { forwardRate, seed };
  const evaluator = new EventStreamEvaluator({ gate });
  const t0 = performance.now();
  const detected = new Set<string>();
  for (const { alert, label } of generateScenario({ seed, minutes, rate })) {
    const decision = evaluator.add(alert, label);
    if (label.attackId !== null && decision?.forwarded === true) detected.add(label.attackId);
  }
  const report = evaluator.report();
  const missed = scenarioAttacks({ seed, minutes, rate })
    .filter((a) => !detected.has(a.id))
    .map((a) => ({ id: a.id, kind: a.kind, variant: a.variant, events: a.events }));
  return { seed, forwardRateTarget: forwardRate, wallMs: performance.now() - t0, report, missed };
}

const pct = (x: number | null, digits = 2): string => (x === null ? 'n/a' : `${(x * 100).toFixed(digits)} %`);
const secs = (ms: number | null): string => (ms === null ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

// Recorded before the runs: the code that runs is the code at this commit.
const commit = (() => {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    // Uncommitted changes to the code under test would make the commit a lie: say so.
    const dirty = execSync('git status --porcelain -- src/gate src/events src/scenario', { cwd: ROOT })
      .toString()
      .trim();
    return dirty === '' ? head : `${head}+uncommitted`;
  } catch {
    return 'unknown';
  }
})();

const runs: RunResult[] = [];
for (const forwardRate of forwardRates) {
  for (const seed of seeds) {
    const r = runOne(seed, forwardRate);
    runs.push(r);
    const rep = r.report;
    process.stdout.write(
      `seed ${seed} target ${pct(forwardRate, 1)}: forward ${pct(rep.forwardRate)}, recall ${rep.attacksDetected}/${rep.attacks}, ` +
        `median ${secs(rep.medianMsToSignal)}, p95 ${secs(rep.p95MsToSignal)}, auc ${rep.auc?.toFixed(4)}, ${(r.wallMs / 1000).toFixed(0)} s` +
        `${r.missed.length ? `, missed ${r.missed.map((m) => `${m.kind}/${m.variant}`).join(' ')}` : ''}\n`,
    );
  }
}

interface Summary {
  forwardRateTarget: number;
  seeds: number;
  attacks: number;
  attacksDetected: number;
  attackRecall: number;
  meanForwardRate: number;
  maxForwardRate: number;
  perKind: Record<string, { attacks: number; detected: number; recall: number; technique: string | null }>;
  medianMsToSignal: number | null;
  worstP95MsToSignal: number | null;
  meetsTarget: boolean;
}

function summarize(forwardRate: number): Summary {
  const rs = runs.filter((r) => r.forwardRateTarget === forwardRate);
  const perKind: Summary['perKind'] = {};
  let attacks = 0;
  let detected = 0;
  for (const r of rs) {
    attacks += r.report.attacks ?? 0;
    detected += r.report.attacksDetected ?? 0;
    for (const [kind, k] of Object.entries(r.report.perKind)) {
      const agg = (perKind[kind] ??= { attacks: 0, detected: 0, recall: 0, technique: k.technique });
      for (const t of (k.technique ?? '').split(', ').filter(Boolean)) {
        if (!(agg.technique ?? '').split(', ').includes(t))
          agg.technique = [...(agg.technique ?? '').split(', ').filter(Boolean), t].sort().join(', ');
      }
      agg.attacks += k.attacks;
      agg.detected += k.detected;
    }
  }
  for (const k of Object.values(perKind)) k.recall = k.attacks ? k.detected / k.attacks : 0;
  const rates = rs.map((r) => r.report.forwardRate);
  const medians = rs
    .map((r) => r.report.medianMsToSignal)
    .filter((x): x is number => x !== null)
    .sort((a, b) => a - b);
  const p95s = rs.map((r) => r.report.p95MsToSignal).filter((x): x is number => x !== null);
  const recall = attacks ? detected / attacks : 0;
  const maxRate = Math.max(...rates);
  return {
    forwardRateTarget: forwardRate,
    seeds: rs.length,
    attacks,
    attacksDetected: detected,
    attackRecall: recall,
    meanForwardRate: rates.reduce((a, b) => a + b, 0) / rates.length,
    maxForwardRate: maxRate,
    perKind,
    medianMsToSignal: medians.length ? medians[Math.floor(medians.length / 2)]! : null,
    worstP95MsToSignal: p95s.length ? Math.max(...p95s) : null,
    meetsTarget: recall >= TARGET.recall && maxRate <= TARGET.maxForwardRate,
  };
}

const summaries = forwardRates.map(summarize);
const result = {
  benchmark: 'gate-quality',
  date: new Date().toISOString(),
  commit,
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  loadavg: loadavg(),
  scenario: { seeds, minutes, rate },
  target: TARGET,
  summaries,
  runs: runs.map((r) => ({ seed: r.seed, wallMs: Math.round(r.wallMs), missed: r.missed, ...r.report })),
};

function markdown(): string {
  const lines: string[] = [];
  lines.push('# Gate quality on generated scenarios', '');
  lines.push(
    `${seeds.length} seeds × ${minutes} min at ${rate} alerts/s, run online through normalize → gate (warm-up, retraining, score-then-learn). ` +
      `An attack is detected when at least one of its events is forwarded; time to signal is event time from its first event to its first forwarded event. ` +
      `Target: ≥ ${pct(TARGET.recall, 0)} of attacks at a forward rate ≤ ${pct(TARGET.maxForwardRate, 0)}. The gate is seeded like the scenario; ` +
      `seeds 1 and 5 were inspected while choosing the features (docs/features.md), the others only measured. Commit ${commit}, Node ${process.version}.`,
    '',
  );
  lines.push(
    '| target rate | seed | events | forward rate | benign fwd rate | attacks detected | recall | median to signal | p95 to signal | AUC | signals | missed |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of runs) {
    const p = r.report;
    lines.push(
      `| ${pct(r.forwardRateTarget, 1)} | ${r.seed} | ${p.n} | ${pct(p.forwardRate)} | ${pct(p.benignForwardRate)} | ${p.attacksDetected}/${p.attacks} | ${pct(p.attackRecall, 1)} | ` +
        `${secs(p.medianMsToSignal)} | ${secs(p.p95MsToSignal)} | ${p.auc?.toFixed(4) ?? 'n/a'} | ${p.signals} | ${r.missed.map((m) => `${m.kind}/${m.variant}`).join(', ') || '—'} |`,
    );
  }
  lines.push(
    '',
    '| target rate | recall (all seeds) | max forward rate | median to signal | worst p95 | meets target |',
    '|---|---|---|---|---|---|',
  );
  for (const s of summaries) {
    lines.push(
      `| ${pct(s.forwardRateTarget, 1)} | ${s.attacksDetected}/${s.attacks} = ${pct(s.attackRecall, 1)} | ${pct(s.maxForwardRate)} | ${secs(s.medianMsToSignal)} | ${secs(s.worstP95MsToSignal)} | ${s.meetsTarget ? 'yes' : 'no'} |`,
    );
  }
  for (const s of summaries) {
    lines.push(
      '',
      `Recall per attack kind at a ${pct(s.forwardRateTarget, 1)} target:`,
      '',
      '| kind | technique | detected | recall |',
      '|---|---|---|---|',
    );
    for (const [kind, k] of Object.entries(s.perKind).sort()) {
      lines.push(`| ${kind} | ${k.technique ?? ''} | ${k.detected}/${k.attacks} | ${pct(k.recall, 1)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

for (const s of summaries) {
  process.stdout.write(
    `target ${pct(s.forwardRateTarget, 1)}: recall ${s.attacksDetected}/${s.attacks} (${pct(s.attackRecall, 1)}), max forward rate ${pct(s.maxForwardRate)} → ${s.meetsTarget ? 'meets' : 'misses'} the target\n`,
  );
}
if (write) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'gate-quality.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(RESULTS, 'gate-quality.md'), markdown());
  process.stdout.write(`wrote ${join('bench', 'results', 'gate-quality.json')} and gate-quality.md\n`);
}
