/**
 * Isolation Forest benchmark: accuracy (ROC AUC) and speed on the nine ODDS
 * sets, next to scikit-learn's IsolationForest (same ψ and t, same run, same
 * machine) and the ICDM 2008 paper's iForest AUC.
 *
 *   node --import tsx bench/iforest.ts [--seeds 5] [--reps 5] [--only shuttle,smtp] [--no-write]
 *
 * Timings are in-process on both sides: interpreter start and CSV loading are
 * excluded; training is one fit per seed; scoring scores the full data set
 * and keeps the best of --reps repetitions per seed. Both sides get an
 * untimed warm-up first (JIT on ours, lazy imports on theirs).
 * Writes bench/results/iforest.json and bench/results/iforest.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { rocAuc } from '../src/gate/auc.ts';
import { loadNumericCsv } from '../src/gate/csv.ts';
import { IsolationForest } from '../src/gate/iforest.ts';
import { ensureBenchVenv, SklearnWorker } from './venv.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATA = join(ROOT, '..', 'shared', 'data');
const ODDS = join(DATA, 'odds');
const PAPER_CSV = join(DATA, 'anchors', 'iforest_icdm2008_table2_table3.csv');
const RESULTS = join(ROOT, 'bench', 'results');

const TREES = 100;
const SAMPLE_SIZE = 256;
const TARGETS = { aucVsSklearn: 0.02, aucBelowPaper: 0.03, scoreSpeedup: 2 };

/** ODDS file name -> dataset name in the paper's tables. */
const PAPER_NAMES: Record<string, string> = {
  annthyroid: 'Annthyroid',
  arrhythmia: 'Arrhythmia',
  breastw: 'Breastw',
  ionosphere: 'Ionosphere',
  mammography: 'Mammography',
  pima: 'Pima',
  satellite: 'Satellite',
  shuttle: 'Shuttle',
  smtp: 'Smtp (KDDCUP99)',
};
/** Sets whose ODDS version differs from the paper's data (see ../shared/data/README.md). */
const DATA_DIFFERS: Record<string, string> = {
  annthyroid: 'ODDS has 7,200 rows, the paper 6,832',
  ionosphere: 'ODDS has 33 columns, the paper 32',
};

interface Args {
  seeds: number[];
  reps: number;
  only: string[] | null;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seedCount = Number(value('--seeds') ?? 5);
  const reps = Number(value('--reps') ?? 5);
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new Error('--seeds must be a positive integer');
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
  const only = value('--only');
  return {
    seeds: Array.from({ length: seedCount }, (_, i) => i + 1),
    reps,
    only: only ? only.split(',') : null,
    write: !argv.includes('--no-write'),
  };
}

/** Splits one CSV line, honouring double quotes (the paper's table quotes fields with commas). */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

function paperAucs(): Map<string, number> {
  const lines = readFileSync(PAPER_CSV, 'utf8').trim().split(/\r?\n/);
  const header = splitCsvLine(lines[0]!);
  const nameCol = header.indexOf('dataset');
  const aucCol = header.indexOf('iforest_auc');
  const map = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const fields = splitCsvLine(line);
    const auc = Number(fields[aucCol]);
    if (Number.isFinite(auc)) map.set(fields[nameCol]!, auc);
  }
  return map;
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
/** Sample standard deviation (n - 1); 0 for a single value. */
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const r2 = (x: number) => Math.round(x * 100) / 100;

interface SideSummary {
  aucMean: number;
  aucStd: number;
  aucs: number[];
  /** Wall time of one fit, mean over seeds. */
  trainMs: number;
  /** Process CPU time of one fit, mean over seeds. */
  trainCpuMs: number;
  /** Wall time of scoring the full set, best of reps per seed, mean over seeds. */
  scoreMs: number;
  /** Process CPU time of scoring the full set, best of reps per seed, mean over seeds. */
  scoreCpuMs: number;
}

interface Samples {
  aucs: number[];
  trains: number[];
  trainCpus: number[];
  scores: number[];
  scoreCpus: number[];
}

const samples = (): Samples => ({ aucs: [], trains: [], trainCpus: [], scores: [], scoreCpus: [] });

/** Process CPU time (user + system) in ms; excludes time spent waiting for a core on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface SetResult {
  dataset: string;
  n: number;
  d: number;
  ours: SideSummary;
  sklearn: SideSummary;
  paper: { name: string | null; auc: number | null; dataDiffers: string | null };
  ratios: {
    /** sklearn fit time / our train time (> 1: we train faster). */
    trainSpeedup: number;
    /** The same in process CPU time. */
    trainSpeedupCpu: number;
    /** sklearn score_samples time / our scoring time = our scoring throughput in units of sklearn's. */
    scoreSpeedup: number;
    /** The same in process CPU time, which time spent waiting for a core does not distort. */
    scoreSpeedupCpu: number;
  };
  deltas: { aucVsSklearn: number; aucVsPaper: number | null };
  pass: {
    aucVsSklearn: boolean;
    /** null when the paper has no figure; reported but not binding when the data differs. */
    aucVsPaper: boolean | null;
    scoreSpeedup: boolean;
    scoreSpeedupCpu: boolean;
  };
}

function summarize(x: Samples): SideSummary {
  return {
    aucMean: mean(x.aucs),
    aucStd: std(x.aucs),
    aucs: x.aucs,
    trainMs: mean(x.trains),
    trainCpuMs: mean(x.trainCpus),
    scoreMs: mean(x.scores),
    scoreCpuMs: mean(x.scoreCpus),
  };
}

/**
 * Per seed: our fit, then scikit-learn's; then `reps` scorings of the full set
 * alternating ours and theirs, keeping each side's best. Alternating keeps a
 * load spike on the shared machine from landing on one side only.
 */
async function benchSet(
  worker: SklearnWorker | null,
  table: { data: Float64Array; n: number; d: number; labels: Uint8Array },
  seeds: number[],
  reps: number,
): Promise<{ ours: SideSummary; sklearn: SideSummary | null }> {
  const { data, n, d, labels } = table;
  const out = new Float64Array(n);
  const ours = samples();
  const theirs = samples();
  for (const seed of seeds) {
    const c0 = cpuMs();
    const t0 = performance.now();
    const forest = IsolationForest.fit(data, n, d, { trees: TREES, sampleSize: SAMPLE_SIZE, seed });
    ours.trains.push(performance.now() - t0);
    ours.trainCpus.push(cpuMs() - c0);
    if (worker) {
      const fit = await worker.fit(seed, TREES, SAMPLE_SIZE);
      theirs.trains.push(fit.fitMs);
      theirs.trainCpus.push(fit.fitCpuMs);
    }
    const best = {
      wall: Infinity,
      cpu: Infinity,
      theirWall: Infinity,
      theirCpu: Infinity,
      theirAuc: Number.NaN,
    };
    for (let r = 0; r < reps; r++) {
      const c1 = cpuMs();
      const t1 = performance.now();
      forest.scoreBatch(data, n, out);
      best.wall = Math.min(best.wall, performance.now() - t1);
      best.cpu = Math.min(best.cpu, cpuMs() - c1);
      if (worker) {
        const answer = await worker.score();
        best.theirWall = Math.min(best.theirWall, answer.scoreMs);
        best.theirCpu = Math.min(best.theirCpu, answer.scoreCpuMs);
        best.theirAuc = answer.auc;
      }
    }
    ours.scores.push(best.wall);
    ours.scoreCpus.push(best.cpu);
    ours.aucs.push(rocAuc(out, labels));
    if (worker) {
      theirs.scores.push(best.theirWall);
      theirs.scoreCpus.push(best.theirCpu);
      theirs.aucs.push(best.theirAuc);
    }
  }
  return { ours: summarize(ours), sklearn: worker ? summarize(theirs) : null };
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

const mark = (ok: boolean | null) => (ok === null ? '–' : ok ? 'pass' : '**FAIL**');

function markdown(results: SetResult[], meta: Record<string, unknown>): string {
  const lines = [
    `Isolation Forest vs scikit-learn ${String(meta.sklearn)} and the ICDM 2008 paper (ψ=${SAMPLE_SIZE}, t=${TREES}, seeds ${String(meta.seeds)}; AUC mean ± sample std over seeds; times in ms, mean over seeds, scoring best of ${String(meta.reps)} alternating with scikit-learn's; speedup = sklearn time / our time, in wall time and in process CPU time, which time spent waiting for a core on this shared machine does not distort).`,
    '',
    '| set | n | d | AUC ours | AUC sklearn | AUC paper | Δ sklearn | train ms ours / sk | score ms ours / sk (wall) | score speedup wall / CPU | ≤0.02 of sklearn | ≥ paper−0.03 | score ≥2× wall / CPU |',
    '|---|---:|---:|---|---|---|---:|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const paper = r.paper.auc === null ? 'n/a' : r.paper.auc.toFixed(2);
    const paperPass = r.paper.dataDiffers
      ? `${mark(r.pass.aucVsPaper)} (data differs)`
      : mark(r.pass.aucVsPaper);
    lines.push(
      `| ${r.dataset} | ${r.n} | ${r.d} | ${r.ours.aucMean.toFixed(4)} ± ${r.ours.aucStd.toFixed(4)} | ${r.sklearn.aucMean.toFixed(4)} ± ${r.sklearn.aucStd.toFixed(4)} | ${paper} | ${r.deltas.aucVsSklearn >= 0 ? '+' : ''}${r.deltas.aucVsSklearn.toFixed(4)} | ${r.ours.trainMs.toFixed(1)} / ${r.sklearn.trainMs.toFixed(1)} | ${r.ours.scoreMs.toFixed(1)} / ${r.sklearn.scoreMs.toFixed(1)} | ${r.ratios.scoreSpeedup.toFixed(2)}× / ${r.ratios.scoreSpeedupCpu.toFixed(2)}× | ${mark(r.pass.aucVsSklearn)} | ${paperPass} | ${mark(r.pass.scoreSpeedup)} / ${mark(r.pass.scoreSpeedupCpu)} |`,
    );
  }
  lines.push(
    '',
    `Machine: ${String(meta.cpu)} (${String(meta.cpuCount)} vCPU, shared), Node ${String(meta.node)}, Python ${String(meta.python)}, numpy ${String(meta.numpy)}; load average at start ${String(meta.loadAverageStart)}, at end ${String(meta.loadAverageEnd)}; ${String(meta.date)}, commit ${String(meta.commit)}.`,
  );
  return `${lines.join('\n')}\n`;
}

async function benchFile(
  worker: SklearnWorker,
  file: string,
  args: Args,
  paper: Map<string, number>,
  onVersions: (v: { python: string; sklearn: string; numpy: string }) => void,
): Promise<SetResult> {
  const dataset = basename(file, '.csv');
  const path = join(ODDS, file);
  process.stderr.write(`iforest bench: ${dataset}…\n`);
  const table = await loadNumericCsv(path, { requireLabel: true });
  const info = await worker.load(path);
  if (info.n !== table.n || info.d !== table.d) throw new Error(`scikit-learn read ${file} differently`);
  onVersions(info);
  const { ours, sklearn: sk } = await benchSet(
    worker,
    { ...table, labels: table.labels! },
    args.seeds,
    args.reps,
  );
  const sklearn = sk!;
  const paperName = PAPER_NAMES[dataset] ?? null;
  const paperAuc = paperName === null ? null : (paper.get(paperName) ?? null);
  const aucVsSklearn = ours.aucMean - sklearn.aucMean;
  const aucVsPaper = paperAuc === null ? null : ours.aucMean - paperAuc;
  const scoreSpeedup = sklearn.scoreMs / ours.scoreMs;
  const scoreSpeedupCpu = sklearn.scoreCpuMs / ours.scoreCpuMs;
  return {
    dataset,
    n: table.n,
    d: table.d,
    ours: {
      ...ours,
      aucMean: r4(ours.aucMean),
      aucStd: r4(ours.aucStd),
      aucs: ours.aucs.map(r4),
      trainMs: r2(ours.trainMs),
      trainCpuMs: r2(ours.trainCpuMs),
      scoreMs: r2(ours.scoreMs),
      scoreCpuMs: r2(ours.scoreCpuMs),
    },
    sklearn: {
      ...sklearn,
      aucMean: r4(sklearn.aucMean),
      aucStd: r4(sklearn.aucStd),
      aucs: sklearn.aucs.map(r4),
      trainMs: r2(sklearn.trainMs),
      trainCpuMs: r2(sklearn.trainCpuMs),
      scoreMs: r2(sklearn.scoreMs),
      scoreCpuMs: r2(sklearn.scoreCpuMs),
    },
    paper: {
      name: paperAuc === null ? null : paperName,
      auc: paperAuc,
      dataDiffers: DATA_DIFFERS[dataset] ?? null,
    },
    ratios: {
      trainSpeedup: r2(sklearn.trainMs / ours.trainMs),
      trainSpeedupCpu: r2(sklearn.trainCpuMs / ours.trainCpuMs),
      scoreSpeedup: r2(scoreSpeedup),
      scoreSpeedupCpu: r2(scoreSpeedupCpu),
    },
    deltas: { aucVsSklearn: r4(aucVsSklearn), aucVsPaper: aucVsPaper === null ? null : r4(aucVsPaper) },
    pass: {
      aucVsSklearn: Math.abs(aucVsSklearn) <= TARGETS.aucVsSklearn,
      aucVsPaper: aucVsPaper === null ? null : aucVsPaper >= -TARGETS.aucBelowPaper,
      scoreSpeedup: scoreSpeedup >= TARGETS.scoreSpeedup,
      scoreSpeedupCpu: scoreSpeedupCpu >= TARGETS.scoreSpeedup,
    },
  };
}

export async function runIforestBench(argv: string[]): Promise<{ results: SetResult[]; markdown: string }> {
  const args = parseArgs(argv);
  const python = ensureBenchVenv();
  const paper = paperAucs();
  const files = readdirSync(ODDS)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .filter((f) => !args.only || args.only.includes(basename(f, '.csv')));
  const loadStart = loadavg().map(r2);

  // Untimed warm-up: a few fits and scorings so V8 has optimized the hot code
  // (the gate is a long-running process); the Python worker warms up itself.
  const warm = await loadNumericCsv(join(ODDS, 'breastw.csv'), { requireLabel: true });
  await benchSet(null, { ...warm, labels: warm.labels! }, [101, 102, 103, 104, 105, 106], 2);

  const worker = SklearnWorker.start(python);
  const results: SetResult[] = [];
  const seen: { versions?: { python: string; sklearn: string; numpy: string } } = {};
  try {
    for (const file of files) {
      results.push(await benchFile(worker, file, args, paper, (v) => (seen.versions = v)));
    }
  } finally {
    worker.close();
  }

  const meta = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    loadAverageStart: loadStart,
    loadAverageEnd: loadavg().map(r2),
    python: seen.versions?.python ?? null,
    sklearn: seen.versions?.sklearn ?? null,
    numpy: seen.versions?.numpy ?? null,
    seeds: args.seeds,
    reps: args.reps,
    trees: TREES,
    sampleSize: SAMPLE_SIZE,
  };
  const md = markdown(results, meta);
  const summary = {
    sets: results.length,
    aucVsSklearnPass: results.filter((r) => r.pass.aucVsSklearn).length,
    aucVsPaperPass: results.filter((r) => r.pass.aucVsPaper === true).length,
    aucVsPaperPassWhereDataMatches: results.filter((r) => !r.paper.dataDiffers && r.pass.aucVsPaper === true)
      .length,
    setsWhereDataMatches: results.filter((r) => !r.paper.dataDiffers).length,
    scoreSpeedupPass: results.filter((r) => r.pass.scoreSpeedup).length,
    scoreSpeedupCpuPass: results.filter((r) => r.pass.scoreSpeedupCpu).length,
  };
  if (args.write) {
    mkdirSync(RESULTS, { recursive: true });
    const doc = { benchmark: 'iforest', targets: TARGETS, machine: meta, summary, sets: results };
    writeFileSync(join(RESULTS, 'iforest.json'), `${JSON.stringify(doc, null, 2)}\n`);
    writeFileSync(join(RESULTS, 'iforest.md'), md);
  }
  return { results, markdown: md };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { markdown: md } = await runIforestBench(process.argv.slice(2));
  process.stdout.write(md);
}
