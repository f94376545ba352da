/**
 * Streaming NDJSON: splits bytes into lines (LF or CRLF; blank lines skipped),
 * decodes each as strict UTF-8, parses it as JSON and optionally maps the value
 * (e.g. normalizeAlert). Every non-blank line yields one record, good or bad,
 * with its 1-based line number; a bad line never stops the stream. A line over
 * `maxLineBytes` is reported as EVENT_TOO_LARGE without being buffered: its bytes
 * are skipped up to the next newline.
 */
import { isUtf8 } from 'node:buffer';
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

function isBlankText(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== CR) return false;
  }
  return true;
}

function tooLarge<T>(line: number, size: number, max: number): NdjsonRecord<T> {
  return {
    ok: false,
    line,
    code: 'EVENT_TOO_LARGE',
    reason: `line of ${size} bytes exceeds the limit of ${max} bytes`,
  };
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
    // The line in progress from earlier chunks, if this chunk ends it.
    if (this.#pendingBytes > 0 || this.#skipped >= 0) {
      const nl = chunk.indexOf(LF);
      if (nl === -1) {
        this.#take(chunk, 0, chunk.length);
        return;
      }
      this.#take(chunk, 0, nl);
      this.#finishLine();
      start = nl + 1;
    }
    // Lines wholly inside this chunk.
    const last = chunk.lastIndexOf(LF);
    if (last >= start) {
      this.#completeLines(chunk, start, last);
      start = last + 1;
    }
    // The unfinished tail.
    this.#take(chunk, start, chunk.length);
  }

  /**
   * The complete lines in chunk[start, end), end being a line break. Fast path: one
   * UTF-8 check and one decode for the whole region, then lines are cut from the
   * string (the same result as line by line, at a fraction of the cost).
   */
  #completeLines(chunk: Uint8Array, start: number, end: number): void {
    const region = chunk.subarray(start, end);
    if (this.#keepBytes || !isUtf8(region)) {
      let at = start;
      while (at <= end) {
        const nl = chunk.indexOf(LF, at);
        this.#take(chunk, at, nl);
        this.#finishLine();
        at = nl + 1;
      }
      return;
    }
    const text = Buffer.from(region.buffer, region.byteOffset, region.length).toString('utf8');
    let at = 0;
    for (;;) {
      const nl = text.indexOf('\n', at);
      this.#textLine(nl === -1 ? text.slice(at) : text.slice(at, nl));
      if (nl === -1) return;
      at = nl + 1;
    }
  }

  /** One complete, valid UTF-8 line as text: the same checks, in the same order, as #finishLine. */
  #textLine(raw: string): void {
    const line = ++this.#line;
    const max = this.#maxLineBytes;
    // UTF-16 length ≤ UTF-8 length ≤ 3 × UTF-16 length: count bytes only when it matters.
    if (raw.length * 3 > max + 1) {
      const rawBytes = Buffer.byteLength(raw);
      if (rawBytes > max + 1) return this.#emit(tooLarge(line, rawBytes, max));
    }
    if (raw.length === 0) return;
    const text = raw.charCodeAt(raw.length - 1) === CR ? raw.slice(0, -1) : raw;
    if (text.length * 3 > max) {
      const bytes = Buffer.byteLength(text);
      if (bytes > max) return this.#emit(tooLarge(line, bytes, max));
    }
    if (text.length === 0 || (text.charCodeAt(0) <= 0x20 && isBlankText(text))) return;
    let record: NdjsonRecord<T>;
    try {
      // TextDecoder drops a leading byte order mark; so does this path.
      const value = parseJsonText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
      record = {
        ok: true,
        line,
        event: this.#decode === undefined ? (value as T) : this.#decode(value, line),
      };
    } catch (err) {
      record = toErrorRecord(line, err);
    }
    this.#emit(record);
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
      return this.#emit(tooLarge(line, size, this.#maxLineBytes));
    }
    const parts = this.#pending;
    let bytes: Uint8Array;
    if (parts.length === 0) return; // empty line
    if (parts.length === 1) bytes = parts[0] as Uint8Array;
    else bytes = Buffer.concat(parts, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    if (bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
    if (bytes.length > this.#maxLineBytes)
      return this.#emit(tooLarge(line, bytes.length, this.#maxLineBytes));
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
