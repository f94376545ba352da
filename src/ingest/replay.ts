/**
 * Replays an NDJSON stream of Falco alerts into a target (the HTTP ingest, or
 * anything with the same `send`), in batches, optionally paced, and accounts for
 * every line: each non-blank line ends up accepted or rejected with its line
 * number and reason, never silently dropped. Lines are validated locally first
 * (so a bad line is named even if the target would only count it) and invalid
 * lines are not sent. Refusals with Retry-After (429, 503) are retried a bounded
 * number of times; a batch the target finds too large is split.
 */
import { FalconerError, describeError } from '../errors.ts';
import { parseNdjson } from '../events/ndjson.ts';
import { createNormalizer, type NormalizeOptions } from '../events/normalize.ts';

export interface RejectedLine {
  readonly line: number;
  readonly code: string;
  readonly reason: string;
}

/** What a target says about one batch. */
export type SendResult =
  /** The target processed the batch: `rejected` are file line numbers (possibly fewer than rejectedCount). */
  | {
      readonly kind: 'done';
      readonly accepted: number;
      readonly rejectedCount: number;
      readonly rejected: readonly RejectedLine[];
    }
  /** Not now (rate limit, backpressure): send the same batch again after the delay. */
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number; readonly reason: string }
  /** The batch is too large for the target: split it. */
  | { readonly kind: 'too-large'; readonly reason: string }
  /** The whole batch was refused for a reason that retrying will not fix. */
  | { readonly kind: 'refused'; readonly code: string; readonly reason: string };

export interface ReplayTarget {
  /** `batch` is NDJSON (one event per line, each line ending in \n); `lines[i]` is the file line number of its i-th line. */
  send(batch: Buffer, lines: readonly number[]): Promise<SendResult>;
}

export interface ReplayProgress {
  readonly lines: number;
  readonly bytes: number;
  readonly sent: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly retries: number;
  readonly seconds: number;
}

export interface ReplayOptions {
  /** Events per batch (default 500). */
  readonly batch?: number;
  /** Largest batch body in bytes (default 1 MiB); a batch is sent early when the next line would pass it. */
  readonly maxBatchBytes?: number;
  /** Pace to this many events per second (default: as fast as the target takes them). */
  readonly rate?: number;
  /**
   * Batches in flight at once (default 1), as several Falco nodes post at the same time. Above 1 the
   * target may see batches slightly out of order; every line is still accounted for exactly once.
   */
  readonly concurrency?: number;
  /** Retries of one batch after 429/503 before its lines are counted as rejected (default 8). */
  readonly maxRetries?: number;
  /** Longest wait honoured from a Retry-After, in seconds (default 30). */
  readonly maxRetryAfterSeconds?: number;
  /** Rejections listed in the summary (default 20); counts are always complete. */
  readonly maxRejectionsListed?: number;
  /** Validation options, as the ingest applies them (cluster, limits). */
  readonly normalize?: NormalizeOptions;
  readonly onProgress?: (p: ReplayProgress) => void;
  /** How often onProgress is called, in ms (default 250). */
  readonly progressIntervalMs?: number;
  readonly signal?: AbortSignal;
  /** Injected for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface ReplaySummary extends ReplayProgress {
  /** Non-blank lines, i.e. events read. */
  readonly events: number;
  /** The first maxRejectionsListed rejections, in line order. */
  readonly rejections: readonly RejectedLine[];
  readonly eventsPerSecond: number;
  /** Set when the replay stopped early (target unreachable, aborted); the rest was not sent. */
  readonly aborted?: string;
  readonly unsent: number;
}

const DEFAULTS = {
  batch: 500,
  maxBatchBytes: 1024 * 1024,
  maxRetries: 8,
  maxRetryAfterSeconds: 30,
  maxRejectionsListed: 20,
  progressIntervalMs: 250,
};

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class Tally {
  lines = 0;
  bytes = 0;
  events = 0;
  sent = 0;
  accepted = 0;
  rejected = 0;
  retries = 0;
  unsent = 0;
  readonly rejections: RejectedLine[] = [];
  constructor(readonly maxListed: number) {}

  reject(r: RejectedLine): void {
    this.rejected++;
    this.list(r);
  }

  list(r: RejectedLine): void {
    // Keep the lowest line numbers: batches finish in order, but local rejections come first.
    if (this.rejections.length < this.maxListed) {
      this.rejections.push(r);
      return;
    }
    const last = this.rejections[this.rejections.length - 1];
    if (last !== undefined && r.line < last.line) {
      this.rejections[this.rejections.length - 1] = r;
      this.rejections.sort((a, b) => a.line - b.line);
    }
  }
}

export async function replayStream(
  input: AsyncIterable<Uint8Array | string>,
  target: ReplayTarget,
  opts: ReplayOptions = {},
): Promise<ReplaySummary> {
  const batchSize = Math.max(1, Math.floor(opts.batch ?? DEFAULTS.batch));
  const maxBatchBytes = opts.maxBatchBytes ?? DEFAULTS.maxBatchBytes;
  const maxRetries = opts.maxRetries ?? DEFAULTS.maxRetries;
  const maxWait = opts.maxRetryAfterSeconds ?? DEFAULTS.maxRetryAfterSeconds;
  const sleep = opts.sleep ?? defaultSleep;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
  const now = opts.now ?? Date.now;
  const normalize = createNormalizer(opts.normalize);
  const maxLineBytes = opts.normalize?.limits?.maxEventBytes;
  const tally = new Tally(opts.maxRejectionsListed ?? DEFAULTS.maxRejectionsListed);
  const started = now();
  let aborted: string | undefined;
  let lastProgress = 0;

  const progress = (force = false): void => {
    if (opts.onProgress === undefined) return;
    const t = now();
    if (!force && t - lastProgress < (opts.progressIntervalMs ?? DEFAULTS.progressIntervalMs)) return;
    lastProgress = t;
    opts.onProgress(snapshot(t));
  };
  const snapshot = (t: number): ReplayProgress => ({
    lines: tally.lines,
    bytes: tally.bytes,
    sent: tally.sent,
    accepted: tally.accepted,
    rejected: tally.rejected,
    retries: tally.retries,
    seconds: (t - started) / 1000,
  });

  /** Sends one batch, splitting on too-large and retrying on retry; accounts for every line in it. */
  const deliver = async (chunks: Uint8Array[], lines: number[]): Promise<void> => {
    const body = Buffer.concat(chunks.flatMap((c) => [c, NEWLINE]));
    for (let attempt = 0; ; attempt++) {
      if (opts.signal?.aborted) throw new FalconerError('IO_ERROR', 'replay aborted');
      const result = await target.send(body, lines);
      if (result.kind === 'done') {
        tally.sent += lines.length;
        tally.accepted += result.accepted;
        tally.rejected += result.rejectedCount;
        for (const r of result.rejected) tally.list(r);
        return;
      }
      if (result.kind === 'too-large' && lines.length > 1) {
        const half = Math.ceil(lines.length / 2);
        await deliver(chunks.slice(0, half), lines.slice(0, half));
        await deliver(chunks.slice(half), lines.slice(half));
        return;
      }
      if (result.kind === 'retry' && attempt < maxRetries) {
        tally.retries++;
        progress();
        await sleep(Math.min(maxWait, Math.max(0.05, result.retryAfterSeconds)) * 1000);
        continue;
      }
      // Refused, too large on its own, or out of retries: every line of the batch is rejected, by name.
      tally.sent += lines.length;
      const code =
        result.kind === 'refused'
          ? result.code
          : result.kind === 'retry'
            ? 'REPLAY_GAVE_UP'
            : 'EVENT_TOO_LARGE';
      const reason =
        result.kind === 'retry'
          ? `still refused after ${maxRetries} retries: ${result.reason}`
          : result.reason;
      for (const line of lines) tally.reject({ line, code, reason });
      return;
    }
  };

  let chunks: Uint8Array[] = [];
  let lines: number[] = [];
  let batchBytes = 0;
  /** Lines handed to deliver so far (the pace), and those of batches not finished yet. */
  let scheduled = 0;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  const flush = async (): Promise<void> => {
    if (lines.length === 0) return;
    const c = chunks;
    const l = lines;
    chunks = [];
    lines = [];
    batchBytes = 0;
    if (opts.rate !== undefined && opts.rate > 0) {
      const wait = started + ((scheduled + l.length) / opts.rate) * 1000 - now();
      if (wait > 0) await sleep(wait);
    }
    scheduled += l.length;
    inFlight += l.length;
    const delivery: Promise<void> = deliver(c, l).then(
      () => {
        inFlight -= l.length;
        pending.delete(delivery);
        progress();
      },
      (err: unknown) => {
        // Its lines stay counted in flight: they end up unsent.
        failure ??= { err };
        pending.delete(delivery);
      },
    );
    pending.add(delivery);
    if (pending.size >= concurrency) await Promise.race(pending);
    if (failure !== undefined) throw failure.err;
  };

  const counted = countBytes(input, tally);
  try {
    for await (const record of parseNdjson(counted, {
      decode: normalize,
      keepBytes: true,
      ...(maxLineBytes !== undefined && { maxLineBytes }),
    })) {
      tally.events++;
      tally.lines = Math.max(tally.lines, record.line);
      if (!record.ok) {
        tally.reject({ line: record.line, code: record.code, reason: record.reason });
        continue;
      }
      const bytes = record.bytes as Uint8Array;
      if (lines.length > 0 && batchBytes + bytes.length + 1 > maxBatchBytes) await flush();
      chunks.push(bytes);
      lines.push(record.line);
      batchBytes += bytes.length + 1;
      if (lines.length >= batchSize) await flush();
      progress();
    }
    await flush();
    await Promise.all(pending);
    if (failure !== undefined) throw failure.err;
  } catch (err) {
    await Promise.all(pending);
    aborted = describeError(failure?.err ?? err);
    tally.unsent += lines.length + inFlight;
  }
  tally.lines = Math.max(tally.lines, counted.lines());
  const t = now();
  progress(true);
  const seconds = (t - started) / 1000;
  return {
    ...snapshot(t),
    events: tally.events,
    rejections: [...tally.rejections].sort((a, b) => a.line - b.line),
    eventsPerSecond: seconds > 0 ? Math.round(tally.events / seconds) : tally.events,
    unsent: tally.unsent,
    ...(aborted !== undefined && { aborted }),
  };
}

const NEWLINE = Buffer.from('\n');

/** Counts bytes and newlines as they stream by, for progress and the final line count (blank lines included). */
function countBytes(
  input: AsyncIterable<Uint8Array | string>,
  tally: Tally,
): AsyncIterable<Uint8Array> & { lines(): number } {
  let newlines = 0;
  let trailing = false;
  return {
    lines: () => newlines + (trailing ? 1 : 0),
    async *[Symbol.asyncIterator]() {
      for await (const c of input) {
        const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
        tally.bytes += chunk.length;
        let i = -1;
        while ((i = chunk.indexOf(0x0a, i + 1)) !== -1) newlines++;
        if (chunk.length > 0) trailing = chunk[chunk.length - 1] !== 0x0a;
        yield chunk;
      }
    },
  };
}
