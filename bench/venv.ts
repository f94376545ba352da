/**
 * The Python venv with the pinned scikit-learn (bench/requirements-sklearn.txt),
 * shared by the Isolation Forest benchmark and its comparison test. The venv is
 * created by bench/ensure-venv.sh, which CI calls too.
 */
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
export const SKLEARN_HELPER = join(BENCH_DIR, 'sklearn_iforest.py');

export function benchVenvDir(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return process.env.FALCONER_BENCH_VENV || join(cache, 'falconer', 'venv-bench');
}

/** Creates the venv if needed (may take a minute: pip downloads) and returns its python. */
export function ensureBenchVenv(): string {
  const out = execFileSync('bash', [join(BENCH_DIR, 'ensure-venv.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

/**
 * The venv's python when the venv exists with the current pins and imports
 * scikit-learn; null otherwise. Never creates anything (for tests).
 */
export function existingBenchPython(): string | null {
  const dir = benchVenvDir();
  const python = join(dir, 'bin', 'python');
  const stamp = join(dir, '.falconer-requirements');
  if (!existsSync(python) || !existsSync(stamp)) return null;
  const pins = readFileSync(join(BENCH_DIR, 'requirements-sklearn.txt'), 'utf8');
  if (readFileSync(stamp, 'utf8') !== pins) return null;
  const probe = spawnSync(python, ['-c', 'import sklearn, numpy'], { timeout: 60_000 });
  return probe.status === 0 ? python : null;
}

export interface SklearnRun {
  seed: number;
  auc: number;
  fitMs: number;
  scoreMs: number;
}

export interface SklearnResult {
  file: string;
  n: number;
  d: number;
  python: string;
  sklearn: string;
  numpy: string;
  runs: SklearnRun[];
}

/** Runs scikit-learn's IsolationForest (same ψ and t) on CSV files, one result per file. */
/** One thread everywhere, as our side runs on one core. */
const SINGLE_THREAD_ENV = { OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

export function runSklearn(
  python: string,
  files: string[],
  opts: { seeds: number[]; reps: number; trees?: number; sampleSize?: number },
): SklearnResult[] {
  const args = [
    SKLEARN_HELPER,
    '--seeds',
    opts.seeds.join(','),
    '--reps',
    String(opts.reps),
    '--trees',
    String(opts.trees ?? 100),
    '--sample-size',
    String(opts.sampleSize ?? 256),
    ...files,
  ];
  const out = execFileSync(python, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 << 20,
    env: { ...process.env, ...SINGLE_THREAD_ENV },
  });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as SklearnResult);
}

/**
 * A long-lived scikit-learn process (sklearn_iforest.py --serve), so the
 * benchmark can alternate our measurements and scikit-learn's in time: on a
 * shared machine, load changes then hit both sides alike.
 */
export class SklearnWorker {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static start(python: string): SklearnWorker {
    const child = spawn(python, [SKLEARN_HELPER, '--serve'], {
      stdio: ['pipe', 'pipe', 'inherit'] as const,
      env: { ...process.env, ...SINGLE_THREAD_ENV },
    }) as unknown as ChildProcessWithoutNullStreams;
    return new SklearnWorker(child);
  }

  private async request<T>(message: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
    const { value, done } = await this.lines.next();
    if (done) throw new Error('scikit-learn worker exited');
    const answer = JSON.parse(value) as T & { error?: string };
    if (answer.error) throw new Error(`scikit-learn worker: ${answer.error}`);
    return answer;
  }

  load(file: string): Promise<{ n: number; d: number; python: string; sklearn: string; numpy: string }> {
    return this.request({ op: 'load', file });
  }

  fit(seed: number, trees: number, sampleSize: number): Promise<{ fitMs: number; fitCpuMs: number }> {
    return this.request({ op: 'fit', seed, trees, sampleSize });
  }

  score(): Promise<{ scoreMs: number; scoreCpuMs: number; auc: number }> {
    return this.request({ op: 'score' });
  }

  close(): void {
    this.child.stdin.end();
  }
}
