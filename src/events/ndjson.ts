/**
 * Streaming NDJSON: splits bytes into lines (LF or CRLF; blank lines skipped),
 * decodes each as strict UTF-8, parses it as JSON and optionally maps the value
 * (e.g. normalizeAlert). Every non-blank line yields one record, good or bad,
 * with its 1-based line number; a bad line never stops the stream. A line over
 * `maxLineBytes` is reported as EVENT_TOO_LARGE without being buffered: its bytes
 * are skipped up to the next newline.
 */
import { FalconerError, describeError, type ErrorCode } from '../errors.ts';
import { DEFAULT_EVENT_LIMITS } from './limits.ts';
import { truncateForMessage } from './truncate.ts';
import { decodeUtf8Strict, firstInvalidUtf8Offset } from './utf8.ts';

export type NdjsonRecord<T> =
  | {
      readonly ok: true;
      readonly line: number;
      readonly event: T;
      /** The line's bytes (no line break), when `keepBytes` is set. */
      readonly bytes?: Uint8Array;
    }
  | {
      readonly ok: false;
      readonly line: number;
      readonly code: ErrorCode;
      readonly reason: string;
      /** Where in the alert, for schema errors (e.g. `output_fields["proc.pid"]`). */
      readonly path?: string;
    };

export interface NdjsonOptions<T> {
  /** Longest line accepted, in bytes, excluding the line break. Default: 64 KiB (the event limit). */
  readonly maxLineBytes?: number;
  /** Maps each parsed JSON value; a thrown FalconerError becomes that line's error record. */
  readonly decode?: (value: unknown, line: number) => T;
  /** Keep each good line's bytes on its record (e.g. to forward them unchanged). */
  readonly keepBytes?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const MAX_REASON = 200;

function isBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

/** JSON.parse, with its failure turned into a bounded EVENT_INVALID_JSON error. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FalconerError(
      'EVENT_INVALID_JSON',
      truncateForMessage(`invalid JSON: ${describeError(err)}`, MAX_REASON),
    );
  }
}

/**
 * Bytes of one event (no line break) → mapped value; throws a FalconerError with
 * code EVENT_INVALID_UTF8, EVENT_INVALID_JSON or whatever `decode` throws.
 */
export function decodeEventBytes<T>(
  bytes: Uint8Array,
  decode?: (value: unknown, line: number) => T,
  line = 1,
): T {
  const text = decodeUtf8Strict(bytes);
  if (text === undefined) {
    throw new FalconerError('EVENT_INVALID_UTF8', `invalid UTF-8 at byte ${firstInvalidUtf8Offset(bytes)}`);
  }
  const value = parseJsonText(text);
  return decode === undefined ? (value as T) : decode(value, line);
}

export function toErrorRecord<T>(line: number, err: unknown): NdjsonRecord<T> {
  if (err instanceof FalconerError) {
    const path = err.context.path;
    return {
      ok: false,
      line,
      code: err.code,
      reason: truncateForMessage(err.message, MAX_REASON),
      ...(typeof path === 'string' && { path }),
    };
  }
  // A bug in a decoder must not stop the stream either; say so plainly.
  return {
    ok: false,
    line,
    code: 'EVENT_SCHEMA',
    reason: truncateForMessage(`internal error: ${describeError(err)}`, MAX_REASON),
  };
}

/**
 * Incremental splitter: push chunks, records come out through `emit` in line
 * order. Memory is bounded by maxLineBytes plus one chunk.
 */
export class NdjsonSplitter<T = unknown> {
  readonly #maxLineBytes: number;
  readonly #decode: ((value: unknown, line: number) => T) | undefined;
  readonly #keepBytes: boolean;
  readonly #emit: (record: NdjsonRecord<T>) => void;
  /** Pieces of the current line that arrived in earlier chunks. */
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Bytes of the current line when it is over the limit and being skipped; -1 when not skipping. */
  #skipped = -1;
  #line = 0;
  #bytes = 0;

  constructor(opts: NdjsonOptions<T>, emit: (record: NdjsonRecord<T>) => void) {
    this.#maxLineBytes = opts.maxLineBytes ?? DEFAULT_EVENT_LIMITS.maxEventBytes;
    this.#decode = opts.decode;
    this.#keepBytes = opts.keepBytes === true;
    this.#emit = emit;
  }

  /** Lines started so far (the number of the line being read). */
  get lines(): number {
    return this.#line;
  }

  /** Bytes pushed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    let start = 0;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(LF, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#take(chunk, start, end);
      if (nl === -1) return;
      this.#finishLine();
      start = nl + 1;
    }
  }

  /** Flushes the last line when the input does not end with a newline. */
  end(): void {
    if (this.#pendingBytes > 0 || this.#skipped >= 0) this.#finishLine();
  }

  /** Adds bytes [start, end) of `chunk` to the current line, or skips them if it is already too long. */
  #take(chunk: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    if (this.#skipped >= 0) {
      this.#skipped += n;
      return;
    }
    const total = this.#pendingBytes + n;
    // A trailing CR belongs to the line break, so allow one byte more before calling it too large.
    if (total > this.#maxLineBytes + 1) {
      this.#skipped = total;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    this.#pending.push(chunk.subarray(start, end));
    this.#pendingBytes = total;
  }

  #finishLine(): void {
    const line = ++this.#line;
    if (this.#skipped >= 0) {
      const size = this.#skipped;
      this.#skipped = -1;
      this.#emit({
        ok: false,
        line,
        code: 'EVENT_TOO_LARGE',
        reason: `line of ${size} bytes exceeds the limit of ${this.#maxLineBytes} bytes`,
      });
      return;
    }
    const parts = this.#pending;
    let bytes: Uint8Array;
    if (parts.length === 0) return; // empty line
    if (parts.length === 1) bytes = parts[0] as Uint8Array;
    else bytes = Buffer.concat(parts, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.#maxLineBytes) {
      this.#emit({
        ok: false,
        line,
        code: 'EVENT_TOO_LARGE',
        reason: `line of ${bytes.length} bytes exceeds the limit of ${this.#maxLineBytes} bytes`,
      });
      return;
    }
    if (bytes.length === 0 || ((bytes[0] as number) <= 0x20 && isBlank(bytes))) return;
    let record: NdjsonRecord<T>;
    try {
      const event = decodeEventBytes(bytes, this.#decode, line);
      // A line that is a subarray of a caller's chunk is copied so the chunk can be released.
      record = this.#keepBytes
        ? { ok: true, line, event, bytes: Uint8Array.prototype.slice.call(bytes) }
        : { ok: true, line, event };
    } catch (err) {
      record = toErrorRecord(line, err);
    }
    this.#emit(record);
  }
}

/** Non-blank lines of an NDJSON document, without parsing them (to count what a refused request carried). */
export function countNdjsonLines(bytes: Uint8Array): number {
  let count = 0;
  let blank = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === LF) {
      if (!blank) count++;
      blank = true;
    } else if (blank && c !== 0x20 && c !== 0x09 && c !== CR) blank = false;
  }
  return blank ? count : count + 1;
}

/** All records of an in-memory NDJSON document (e.g. a request body already bounded in size). */
export function parseNdjsonBuffer<T = unknown>(
  bytes: Uint8Array,
  opts: NdjsonOptions<T> = {},
): NdjsonRecord<T>[] {
  const out: NdjsonRecord<T>[] = [];
  const splitter = new NdjsonSplitter<T>(opts, (r) => out.push(r));
  splitter.push(bytes);
  splitter.end();
  return out;
}

/** Records of an NDJSON byte stream (file, stdin, socket), as they complete. Strings are taken as UTF-8. */
export async function* parseNdjson<T = unknown>(
  source: AsyncIterable<Uint8Array | string>,
  opts: NdjsonOptions<T> = {},
): AsyncGenerator<NdjsonRecord<T>, void, undefined> {
  let ready: NdjsonRecord<T>[] = [];
  const splitter = new NdjsonSplitter<T>(opts, (r) => ready.push(r));
  for await (const chunk of source) {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
    if (ready.length > 0) {
      const batch = ready;
      ready = [];
      yield* batch;
    }
  }
  splitter.end();
  yield* ready;
}
