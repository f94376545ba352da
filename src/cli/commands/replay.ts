/**
 * `falconer replay FILE|-`: posts an NDJSON file (or stdin) of Falco alerts to the
 * ingest, with a progress bar on a terminal and a summary naming every rejected
 * line (the first 20). The work is done by replayStream (src/ingest/replay.ts),
 * which `falconer up --demo` reuses with its own target.
 */
import { createReadStream, statSync } from 'node:fs';
import { FalconerError } from '../../errors.ts';
import { createHttpTarget } from '../../ingest/http-target.ts';
import { replayStream, type ReplayProgress, type ReplaySummary } from '../../ingest/replay.ts';
import type { CommandRegistrar } from '../registry.ts';
import { progressLine, summaryText } from '../replay-output.ts';

export const DEFAULT_REPLAY_URL = 'http://127.0.0.1:2801/events';
/** Without a terminal, progress is one line this often. */
const PLAIN_PROGRESS_EVERY_MS = 5000;

interface ReplayCliOptions {
  url: string;
  batch: string;
  rate?: string;
  concurrency: string;
  json?: boolean;
  cluster?: string;
  maxRetries: string;
  progress: boolean;
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new FalconerError(
      'USAGE',
      `${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function openInput(file: string): { input: AsyncIterable<Uint8Array | string>; totalBytes?: number } {
  if (file === '-') return { input: process.stdin };
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new FalconerError('IO_ERROR', `not a file: ${file}`);
    size = st.size;
  } catch (err) {
    if (err instanceof FalconerError) throw err;
    throw new FalconerError(
      'IO_ERROR',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return { input: createReadStream(file, { highWaterMark: 256 * 1024 }), totalBytes: size };
}

function progressReporter(
  totalBytes: number | undefined,
  enabled: boolean,
): {
  onProgress?: (p: ReplayProgress) => void;
  done: () => void;
} {
  const stderr = process.stderr;
  if (!enabled) return { done: () => undefined };
  if (stderr.isTTY) {
    return {
      onProgress: (p) => stderr.write(`\r\x1b[K${progressLine(p, totalBytes)}`),
      done: () => stderr.write('\r\x1b[K'),
    };
  }
  let last = 0;
  return {
    onProgress: (p) => {
      if (p.seconds * 1000 - last < PLAIN_PROGRESS_EVERY_MS) return;
      last = p.seconds * 1000;
      stderr.write(`replay: ${progressLine(p, totalBytes)}\n`);
    },
    done: () => undefined,
  };
}

export const registerReplayCommand: CommandRegistrar = (program) => {
  program
    .command('replay')
    .description(
      'Post an NDJSON file of Falco alerts (or - for stdin) to the ingest, with a summary of every rejected line',
    )
    .argument('<file>', 'NDJSON file, one Falco alert per line, or - for stdin')
    .option('--url <url>', 'ingest endpoint', DEFAULT_REPLAY_URL)
    .option('--batch <n>', 'events per request', '500')
    .option('--rate <events_per_s>', 'pace the replay to this many events per second')
    .option('--concurrency <n>', 'requests in flight at once, as several Falco nodes post', '1')
    .option('--cluster <name>', 'cluster name for local validation, as the ingest is configured')
    .option(
      '--max-retries <n>',
      'retries of a batch refused with 429/503 before its lines count as rejected',
      '8',
    )
    .option('--no-progress', 'no progress output on stderr')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: ReplayCliOptions) => {
      const batch = positiveNumber('--batch', opts.batch, true) as number;
      const rate = positiveNumber('--rate', opts.rate, false);
      const concurrency = positiveNumber('--concurrency', opts.concurrency, true) as number;
      const maxRetries = Number(opts.maxRetries);
      if (!Number.isInteger(maxRetries) || maxRetries < 0) {
        throw new FalconerError(
          'USAGE',
          `--max-retries must be a non-negative integer, got ${JSON.stringify(opts.maxRetries)}`,
        );
      }
      const target = createHttpTarget({ url: opts.url });
      const { input, totalBytes } = openInput(file);
      const reporter = progressReporter(totalBytes, opts.progress);
      let summary: ReplaySummary;
      try {
        summary = await replayStream(input, target, {
          batch,
          maxRetries,
          concurrency,
          ...(rate !== undefined && { rate }),
          ...(opts.cluster !== undefined && { normalize: { cluster: opts.cluster } }),
          ...(reporter.onProgress !== undefined && { onProgress: reporter.onProgress }),
        });
      } finally {
        reporter.done();
      }
      process.stdout.write(opts.json ? `${JSON.stringify(summary, null, 2)}\n` : summaryText(summary));
      if (summary.aborted !== undefined) process.exitCode = 1;
    });
};
