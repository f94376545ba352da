/**
 * The event store: detect keeps its recent events here so that agents can ask
 * for context (`events.query`) and rules can be backtested (`iterate`).
 *
 * Bounds (all three hold whatever the input):
 *  - count: at most `maxEvents` (default 200 000);
 *  - time: events older than `windowMs` (default 24 h) before the NEWEST
 *    stored event time are evicted. Event time, not wall-clock, so a replay of
 *    last week's alerts keeps its context; `evictBefore(ms)` applies a
 *    wall-clock cut when the caller wants one;
 *  - memory: each event is copied within the wire limits and cut to
 *    `maxEventBytes` (estimated heap bytes, default 16 KiB), and the total
 *    estimate stays under `maxBytes` (default 256 MiB): with the defaults the
 *    store holds at most 256 MiB of event data plus about 150 bytes of index
 *    per event, whatever the senders put in their alerts.
 *
 * Events are kept in arrival order in a ring (a deque): eviction takes the
 * oldest arrival, so add is O(1) amortized; a Map indexes ids and a deque per
 * workload indexes workloads (the evicted event is always the head of its
 * workload's deque). Arrival order is time order for a live feed; for a
 * reordered feed the time window is also applied at query time.
 *
 * `query` answers NEWEST FIRST (context wants the latest); `iterate` goes
 * OLDEST FIRST (a backtest replays history in order). Time ranges are
 * half-open: fromMs ≤ timeMs < toMs.
 *
 * Persistence (optional): `close()` writes an NDJSON snapshot (gzip when the
 * name ends in .gz) to a temporary file, fsyncs and renames it into place
 * (mode 0600); `openEventStore` reloads it, validating every line against the
 * wire contract and skipping what does not validate.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { EventWire, type EventsQueryInput, type EventsQueryOutput } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { compactEvent } from './event-store-compact.ts';
import { Deque } from './event-store-deque.ts';
import './event-store-errors.ts';

export interface EventStoreOptions {
  readonly maxEvents?: number;
  readonly windowMs?: number;
  readonly maxBytes?: number;
  readonly maxEventBytes?: number;
  /** NDJSON snapshot written on close and read by openEventStore (.gz: gzip). */
  readonly snapshotPath?: string;
  /**
   * Events waiting from addLater beyond this many are stored at once, oldest first (default 8 192:
   * a burst of a few thousand events waits whole, and at most ~16 MiB of full events are held).
   */
  readonly maxPending?: number;
}

export const EVENT_STORE_DEFAULTS = Object.freeze({
  maxEvents: 200_000,
  windowMs: 24 * 3_600_000,
  maxBytes: 256 * 1024 * 1024,
  maxEventBytes: 16 * 1024,
  maxPending: 8_192,
});

/** Snapshot lines longer than this are skipped unread (the store never writes one). */
const MAX_SNAPSHOT_LINE = 256 * 1024;

interface Entry {
  readonly seq: number;
  readonly event: EventWire;
  readonly bytes: number;
}

export interface EventStoreStats {
  readonly events: number;
  readonly bytes: number;
  readonly workloads: number;
  readonly oldestMs: number | null;
  readonly newestMs: number | null;
  readonly added: number;
  readonly duplicates: number;
  readonly truncated: number;
  readonly evictedByCount: number;
  readonly evictedByTime: number;
  readonly evictedByBytes: number;
}

export interface IterateOptions {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly workloadKey?: string;
}

export class EventStore {
  readonly maxEvents: number;
  readonly windowMs: number;
  readonly maxBytes: number;
  readonly maxEventBytes: number;
  readonly snapshotPath: string | undefined;
  readonly maxPending: number;
  /** Handed over by addLater, not stored yet (oldest first): every read stores them first. */
  readonly #pending = new Deque<NormalizedEvent | EventWire>();
  readonly #ring = new Deque<Entry>();
  readonly #byId = new Map<string, Entry>();
  readonly #byWorkload = new Map<string, Deque<Entry>>();
  #nextSeq = 0;
  #bytes = 0;
  #newestMs = -Infinity;
  #added = 0;
  #duplicates = 0;
  #truncated = 0;
  #evictedByCount = 0;
  #evictedByTime = 0;
  #evictedByBytes = 0;

  constructor(opts: EventStoreOptions = {}) {
    this.maxEvents = positiveInt(opts.maxEvents ?? EVENT_STORE_DEFAULTS.maxEvents, 'maxEvents');
    this.windowMs = positiveInt(opts.windowMs ?? EVENT_STORE_DEFAULTS.windowMs, 'windowMs');
    this.maxBytes = positiveInt(opts.maxBytes ?? EVENT_STORE_DEFAULTS.maxBytes, 'maxBytes');
    this.maxEventBytes = positiveInt(
      opts.maxEventBytes ?? EVENT_STORE_DEFAULTS.maxEventBytes,
      'maxEventBytes',
    );
    if (this.maxEventBytes < 2048 || this.maxEventBytes > this.maxBytes) {
      throw new FalconerError('EVENT_STORE_CONFIG', 'event store maxEventBytes must be in [2048, maxBytes]', {
        maxEventBytes: this.maxEventBytes,
        maxBytes: this.maxBytes,
      });
    }
    this.snapshotPath = opts.snapshotPath;
    this.maxPending = positiveInt(opts.maxPending ?? EVENT_STORE_DEFAULTS.maxPending, 'maxPending');
  }

  /**
   * Stores the events (a copy, bounded); an id already stored is skipped. Events still waiting from
   * addLater stay waiting: these go in first, so arrival order can differ a little from the feed's
   * (the store already allows that: the time window is applied again at query time).
   */
  add(events: readonly (NormalizedEvent | EventWire)[]): void {
    for (const e of events) this.#addOne(e);
  }

  /**
   * Hands events over to be stored later, when the caller has time (`settle`), or before the next
   * read: every read sees them. Storing costs the event's id (a SHA-256) and a bounded copy, so
   * detect defers it for the events the gate did not forward, off the path from an event to its
   * signal. Beyond `maxPending` waiting events, the oldest are stored at once.
   */
  addLater(events: readonly (NormalizedEvent | EventWire)[]): void {
    for (const e of events) this.#pending.push(e);
    if (this.#pending.length > this.maxPending) this.settle(this.#pending.length - this.maxPending);
  }

  /** Stores up to `max` waiting events, oldest first; returns how many still wait. */
  settle(max = Infinity): number {
    const pending = this.#pending;
    for (let n = 0; n < max && pending.length > 0; n++) this.#addOne(pending.shift() as NormalizedEvent);
    return pending.length;
  }

  /** Events handed over by addLater and not stored yet. */
  get pendingCount(): number {
    return this.#pending.length;
  }

  #addOne(e: NormalizedEvent | EventWire): void {
    const id = e.id;
    if (this.#byId.has(id)) {
      this.#duplicates++;
      return;
    }
    const { event, bytes, truncated } = compactEvent(e, { maxEventBytes: this.maxEventBytes });
    if (truncated) this.#truncated++;
    // Older than the window already: not worth storing (and would be evicted next).
    if (event.timeMs < this.#newestMs - this.windowMs) {
      this.#evictedByTime++;
      return;
    }
    const entry: Entry = { seq: this.#nextSeq++, event, bytes };
    this.#ring.push(entry);
    this.#byId.set(id, entry);
    let wl = this.#byWorkload.get(event.workload.key);
    if (wl === undefined) {
      wl = new Deque<Entry>();
      this.#byWorkload.set(event.workload.key, wl);
    }
    wl.push(entry);
    this.#bytes += bytes;
    this.#added++;
    if (event.timeMs > this.#newestMs) this.#newestMs = event.timeMs;
    this.#evict();
  }

  #evict(): void {
    const horizon = this.#newestMs - this.windowMs;
    for (;;) {
      const head = this.#ring.peek();
      if (head === undefined) return;
      if (this.#ring.length > this.maxEvents) this.#evictedByCount++;
      else if (this.#bytes > this.maxBytes) this.#evictedByBytes++;
      else if (head.event.timeMs < horizon) this.#evictedByTime++;
      else return;
      this.#removeHead();
    }
  }

  #removeHead(): void {
    const entry = this.#ring.shift() as Entry;
    this.#byId.delete(entry.event.id);
    this.#bytes -= entry.bytes;
    const key = entry.event.workload.key;
    const wl = this.#byWorkload.get(key);
    // Arrival order is shared: the oldest arrival is the head of its workload's deque.
    wl?.shift();
    if (wl !== undefined && wl.length === 0) this.#byWorkload.delete(key);
  }

  /** Evicts every event with timeMs < ms (a wall-clock cut, e.g. Date.now() − window). */
  evictBefore(ms: number): number {
    this.settle();
    let n = 0;
    while (true) {
      const head = this.#ring.peek();
      if (head === undefined || head.event.timeMs >= ms) break;
      this.#removeHead();
      this.#evictedByTime++;
      n++;
    }
    return n;
  }

  get(id: string): EventWire | undefined {
    const found = this.#byId.get(id);
    if (found !== undefined || this.#pending.length === 0) return found?.event;
    this.settle();
    return this.#byId.get(id)?.event;
  }

  get size(): number {
    this.settle();
    return this.#ring.length;
  }

  /** Events matching every given criterion, newest first, at most `limit`; `truncated` when more matched. */
  query(input: Partial<EventsQueryInput>): EventsQueryOutput {
    this.settle();
    const limit = Math.max(1, Math.min(1000, Math.trunc(input.limit ?? 100)));
    const horizon = this.#newestMs - this.windowMs;
    const from = Math.max(input.fromMs ?? -Infinity, horizon);
    const to = input.toMs ?? Infinity;
    const match = (e: EventWire): boolean =>
      e.timeMs >= from &&
      e.timeMs < to &&
      (input.rule === undefined || e.rule === input.rule) &&
      (input.workloadKey === undefined || e.workload.key === input.workloadKey);
    const events: EventWire[] = [];
    let truncated = false;
    if (input.ids !== undefined) {
      const picked = new Set<Entry>();
      for (const id of input.ids) {
        const entry = this.#byId.get(id);
        if (entry !== undefined && match(entry.event)) picked.add(entry);
      }
      const sorted = [...picked].sort((a, b) => b.seq - a.seq);
      truncated = sorted.length > limit;
      return { events: sorted.slice(0, limit).map((x) => x.event), truncated };
    }
    const source = input.workloadKey === undefined ? this.#ring : this.#byWorkload.get(input.workloadKey);
    if (source === undefined) return { events, truncated };
    for (let i = source.length - 1; i >= 0; i--) {
      const entry = source.at(i) as Entry;
      if (!match(entry.event)) continue;
      if (events.length === limit) {
        truncated = true;
        break;
      }
      events.push(entry.event);
    }
    return { events, truncated };
  }

  /**
   * Stored events in arrival (time) order, oldest first. Safe to interleave
   * with add(): an event evicted meanwhile is skipped, one added after the
   * call started is not visited.
   */
  *iterate(opts: IterateOptions = {}): Generator<EventWire> {
    this.settle();
    const source = opts.workloadKey === undefined ? this.#ring : this.#byWorkload.get(opts.workloadKey);
    if (source === undefined) return;
    const from = opts.fromMs ?? -Infinity;
    const to = opts.toMs ?? Infinity;
    const endSeq = this.#nextSeq;
    let lastSeq = -1;
    for (;;) {
      // Re-find the position by sequence number: eviction may have shifted the deque.
      const entry = nextAfter(source, lastSeq);
      if (entry === undefined || entry.seq >= endSeq) return;
      lastSeq = entry.seq;
      if (entry.event.timeMs >= from && entry.event.timeMs < to) yield entry.event;
    }
  }

  /** Sequence number of the oldest stored event (-1 when empty); every add takes the next one. */
  get oldestSeq(): number {
    this.settle();
    return this.#ring.peek()?.seq ?? -1;
  }

  /**
   * The newest stored events added after sequence number `afterSeq`, oldest first, at most
   * `maxEvents` of them and at most `maxBytes` of estimated size (the newest win), with their
   * sequence numbers and estimated sizes; `oldestSeq` is the oldest sequence number still stored (-1 when empty).
   * The arrays hold the stored objects themselves (no copy): treat them as read-only.
   */
  newestSince(
    afterSeq: number,
    maxEvents: number,
    maxBytes = Infinity,
  ): { events: EventWire[]; seqs: number[]; sizes: number[]; oldestSeq: number } {
    this.settle();
    const ring = this.#ring;
    const oldestSeq = this.oldestSeq;
    let start = ring.length;
    let bytes = 0;
    while (start > 0 && ring.length - start < maxEvents) {
      const entry = ring.at(start - 1) as Entry;
      if (entry.seq <= afterSeq || bytes + entry.bytes > maxBytes) break;
      bytes += entry.bytes;
      start--;
    }
    const events: EventWire[] = [];
    const seqs: number[] = [];
    const sizes: number[] = [];
    for (let i = start; i < ring.length; i++) {
      const entry = ring.at(i) as Entry;
      events.push(entry.event);
      seqs.push(entry.seq);
      sizes.push(entry.bytes);
    }
    return { events, seqs, sizes, oldestSeq };
  }

  stats(): EventStoreStats {
    this.settle();
    const oldest = this.#ring.peek();
    return {
      events: this.#ring.length,
      bytes: this.#bytes,
      workloads: this.#byWorkload.size,
      oldestMs: oldest?.event.timeMs ?? null,
      newestMs: this.#ring.length === 0 ? null : this.#newestMs,
      added: this.#added,
      duplicates: this.#duplicates,
      truncated: this.#truncated,
      evictedByCount: this.#evictedByCount,
      evictedByTime: this.#evictedByTime,
      evictedByBytes: this.#evictedByBytes,
    };
  }

  /** Writes every stored event, oldest first, as NDJSON (gzip for .gz), atomically. */
  async saveSnapshot(path: string): Promise<number> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    const events = this.#snapshotLines();
    try {
      const out = createWriteStream(tmp, { mode: 0o600 });
      const body = Readable.from(events.lines);
      if (path.endsWith('.gz')) await pipeline(body, createGzip(), out);
      else await pipeline(body, out);
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
      return events.count();
    } catch (err) {
      await rm(tmp, { force: true });
      throw new FalconerError(
        'IO_ERROR',
        `cannot write the event store snapshot ${path}`,
        { path },
        { cause: err },
      );
    }
  }

  #snapshotLines(): { lines: Generator<string>; count: () => number } {
    this.settle();
    let n = 0;
    const entries = [...this.#ring];
    function* lines(): Generator<string> {
      for (const e of entries) {
        n++;
        yield `${JSON.stringify(e.event)}\n`;
      }
    }
    return { lines: lines(), count: () => n };
  }

  /** Adds the events of a snapshot; returns how many lines were loaded and skipped. */
  async loadSnapshot(path: string): Promise<{ loaded: number; skipped: number }> {
    let loaded = 0;
    let skipped = 0;
    try {
      const raw = createReadStream(path);
      const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
      const rl = createInterface({ input, crlfDelay: Infinity });
      const failed = new Promise<never>((_, reject) => {
        raw.once('error', reject);
        input.once('error', reject);
      });
      failed.catch(() => undefined);
      const lines = rl[Symbol.asyncIterator]();
      for (;;) {
        const next = await Promise.race([lines.next(), failed]);
        if (next.done === true) break;
        const line = next.value;
        if (line.length === 0) continue;
        if (line.length > MAX_SNAPSHOT_LINE) {
          skipped++;
          continue;
        }
        const parsed = EventWire.safeParse(safeJson(line));
        if (!parsed.success) {
          skipped++;
          continue;
        }
        this.#addOne(parsed.data);
        loaded++;
      }
      rl.close();
    } catch (err) {
      throw new FalconerError(
        'IO_ERROR',
        `cannot read the event store snapshot ${path}`,
        { path },
        { cause: err },
      );
    }
    return { loaded, skipped };
  }

  /** Writes the snapshot when one is configured. */
  async close(): Promise<void> {
    if (this.snapshotPath !== undefined) await this.saveSnapshot(this.snapshotPath);
  }
}

function safeJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function nextAfter(source: Deque<Entry>, seq: number): Entry | undefined {
  // Sequence numbers increase along the deque: binary search the first one above seq.
  let lo = 0;
  let hi = source.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((source.at(mid) as Entry).seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return source.at(lo);
}

function positiveInt(v: number, name: string): number {
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new FalconerError('EVENT_STORE_CONFIG', `event store ${name} must be a positive integer`, {
      [name]: String(v),
    });
  }
  return v;
}

/** A store, with its snapshot reloaded when one exists (a restart keeps the agents' context). */
export async function openEventStore(opts: EventStoreOptions = {}): Promise<EventStore> {
  const store = new EventStore(opts);
  if (opts.snapshotPath !== undefined && existsSync(opts.snapshotPath))
    await store.loadSnapshot(opts.snapshotPath);
  return store;
}
