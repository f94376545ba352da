/**
 * Signals leave detect through this outbox, so the gate never waits on the
 * coordinator: an `opened` report is sent at once, and so is an update that
 * tells the analysis something new (a new rule or a more urgent priority than
 * the last report sent: the next stage of an attack); other `updated` reports
 * of the same signal are coalesced (only the newest is sent), and a failed send
 * is retried with backoff until it succeeds. Each report has a deterministic
 * message id (signal id + event count of the snapshot), so a retry that the
 * coordinator already handled is answered from its idempotency record instead
 * of doing the work twice. Bounded: beyond `maxPending` signals the oldest
 * pending *update* is dropped (its newer snapshot supersedes it); `opened`
 * reports are never dropped.
 *
 * Durable with a `journal` (detect's state DB): a report is written there
 * before it may be sent (`push` resolves once it is, and detect counts a batch
 * done only then), the row is deleted when the coordinator acknowledged it,
 * and `restore()` after a crash puts back exactly what was unacknowledged,
 * with the same message ids.
 */
import type { SignalReportInput } from '../contracts.ts';
import { isNovel, type SignalDigest } from '../signal-novelty.ts';
import type { JournalEntry, OutboxJournal } from './signal-outbox-store.ts';

export interface OutboxMessage {
  readonly messageId: string;
  readonly report: SignalReportInput;
  /** W3C traceparent of the signal's trace (one per signal, hence per incident). */
  readonly traceparent: string;
}

export interface SignalOutboxOptions {
  readonly send: (message: OutboxMessage) => Promise<void>;
  readonly traceparentFor: (signalId: string) => string;
  readonly onError?: (err: unknown, message: OutboxMessage, attempt: number) => void;
  readonly maxPending?: number;
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Updates of one signal are sent at most this often. */
  readonly updateIntervalMs?: number;
  /**
   * Reports in flight at once (default 4; never two of one signal): a slow
   * answer for one signal does not hold back the `opened` report of another.
   */
  readonly maxInFlight?: number;
  /** Durable storage of what is pending; without it the outbox is in memory only. */
  readonly journal?: OutboxJournal;
  /** A journal write failed: the report is still delivered from memory, but would not survive a crash. */
  readonly onJournalError?: (err: unknown) => void;
}

interface Pending {
  report: SignalReportInput;
  revision: number;
  messageId: string;
  opened: boolean;
  /** Sent without waiting for the signal's update interval (see isNovel). */
  urgent: boolean;
  /** Resolves once this revision is in the journal (at once without one). */
  persisted: Promise<void>;
}

const DONE: Promise<void> = Promise.resolve();

export function signalMessageId(report: SignalReportInput): string {
  // The event count identifies the snapshot: a redelivered signal (Kafka, after a crash) gets the same ids.
  return `signal:${report.signal.id}:${report.signal.count}`;
}

export class SignalOutbox {
  private readonly pending = new Map<string, Pending>();
  private readonly revisions = new Map<string, number>();
  private readonly lastSentAt = new Map<string, number>();
  /** What the last report sent said about each signal (rules, priority, behaviours): novelty is judged against it. */
  private readonly lastSent = new Map<string, SignalDigest>();
  /** Signals with a report on the wire. */
  private readonly inFlight = new Set<string>();
  private closed = false;
  /** After a failure every send waits until then (a down coordinator is not hammered). */
  private pausedUntil = 0;
  private attempt = 0;
  private timer: { handle: NodeJS.Timeout; at: number } | null = null;
  private idleWaiters: (() => void)[] = [];
  /** Journal writes, applied in order (saves batched per tick, removals after acknowledgements). */
  private journalChain: Promise<void> = DONE;
  private unsaved: JournalEntry[] = [];
  private batchPersisted: Promise<void> | null = null;
  sent = 0;
  failures = 0;
  droppedUpdates = 0;
  journalErrors = 0;

  constructor(private readonly opts: SignalOutboxOptions) {}

  get depth(): number {
    return this.pending.size;
  }

  /**
   * Queues a report; resolves once it is durable (in the journal) and may be
   * sent. Never rejects: a journal failure is reported through onJournalError.
   */
  push(report: SignalReportInput): Promise<void> {
    if (this.closed) return DONE;
    const id = report.signal.id;
    const revision = (this.revisions.get(id) ?? 0) + 1;
    this.revisions.set(id, revision);
    const existing = this.pending.get(id);
    // An unsent `opened` stays `opened` (with the newer snapshot): the coordinator must see it open.
    const opened = report.kind === 'opened' || existing?.opened === true;
    const merged: SignalReportInput = { ...report, kind: opened ? 'opened' : 'updated' };
    const messageId = signalMessageId(merged);
    const persisted = this.persist({ signalId: id, revision, messageId, report: merged });
    const urgent = opened || existing?.urgent === true || isNovel(this.lastSent.get(id), report.signal);
    this.pending.delete(id); // re-insert at the end: Map order is send order
    this.pending.set(id, { report: merged, revision, messageId, opened, urgent, persisted });
    this.evictIfFull();
    this.pump();
    return persisted;
  }

  /** Puts back what the journal holds (call once, before the first push, after a restart). */
  async restore(): Promise<number> {
    const journal = this.opts.journal;
    if (journal === undefined) return 0;
    const entries = await journal.load();
    for (const e of entries) {
      if (this.pending.has(e.signalId)) continue;
      this.revisions.set(e.signalId, e.revision);
      this.pending.set(e.signalId, {
        report: e.report,
        revision: e.revision,
        messageId: e.messageId,
        opened: e.report.kind === 'opened',
        urgent: e.report.kind === 'opened',
        persisted: DONE,
      });
    }
    this.pump();
    return entries.length;
  }

  /** Resolves once nothing is pending and the journal is written (tests and the demo: the pipeline settled). */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.inFlight.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await this.journalChain;
  }

  /** Stops sending; what is unacknowledged stays in the journal for the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer.handle);
    this.timer = null;
    await this.journalChain;
  }

  /** Batches the saves of one tick (a gate batch pushes many) into one transaction. */
  private persist(entry: JournalEntry): Promise<void> {
    const journal = this.opts.journal;
    if (journal === undefined) return DONE;
    this.unsaved.push(entry);
    this.batchPersisted ??= new Promise<void>((resolve) =>
      queueMicrotask(() => {
        const batch = this.unsaved;
        this.unsaved = [];
        this.batchPersisted = null;
        resolve(this.journalDo(() => journal.save(batch)));
      }),
    );
    return this.batchPersisted;
  }

  private journalDo(op: () => Promise<void>): Promise<void> {
    this.journalChain = this.journalChain.then(op).catch((err: unknown) => {
      this.journalErrors += 1;
      this.opts.onJournalError?.(err);
    });
    return this.journalChain;
  }

  private evictIfFull(): void {
    const max = this.opts.maxPending ?? 10_000;
    if (this.pending.size <= max) return;
    for (const [id, p] of this.pending) {
      if (!p.opened && !this.inFlight.has(id)) {
        this.pending.delete(id);
        this.droppedUpdates += 1;
        const journal = this.opts.journal;
        if (journal !== undefined) void this.journalDo(() => journal.remove(id, p.revision));
        return;
      }
    }
  }

  /** Starts every send that may start now, and arms a wake-up for the next one that may not. */
  private pump(): void {
    if (this.closed) return;
    const max = this.opts.maxInFlight ?? 4;
    while (this.inFlight.size < max) {
      const now = Date.now();
      if (now < this.pausedUntil) {
        this.wakeAt(this.pausedUntil);
        break;
      }
      const next = this.nextDue(now);
      if (next === null) break;
      if (next.waitMs > 0) {
        this.wakeAt(now + next.waitMs);
        break;
      }
      void this.sendOne(next.id, next.pending);
    }
    this.notifyIfIdle();
  }

  private async sendOne(id: string, picked: Pending): Promise<void> {
    this.inFlight.add(id);
    let p = picked;
    try {
      // Written before it counts as sent: what the coordinator may have seen is always in the journal.
      // A newer snapshot pushed meanwhile (the rest of a gate batch) goes instead.
      for (;;) {
        await p.persisted;
        const newest = this.pending.get(id);
        if (newest === undefined || newest.revision === p.revision) break;
        p = newest;
      }
      if (this.closed) return;
      const message: OutboxMessage = {
        messageId: p.messageId,
        report: p.report,
        traceparent: this.opts.traceparentFor(id),
      };
      try {
        await this.opts.send(message);
      } catch (err) {
        this.attempt += 1;
        this.failures += 1;
        this.opts.onError?.(err, message, this.attempt);
        const initial = this.opts.retryInitialMs ?? 200;
        const delay = Math.min(this.opts.retryMaxMs ?? 10_000, initial * 2 ** Math.min(this.attempt - 1, 16));
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + delay * (0.8 + 0.4 * Math.random()));
        return;
      }
      this.attempt = 0;
      this.pausedUntil = 0;
      // Only remove what was sent: a newer revision pushed meanwhile stays pending.
      if (this.pending.get(id)?.revision === p.revision) this.pending.delete(id);
      const journal = this.opts.journal;
      if (journal !== undefined && !this.closed) void this.journalDo(() => journal.remove(id, p.revision));
      this.lastSentAt.set(id, Date.now());
      const { rules, priorityLevel, behaviours } = p.report.signal;
      this.lastSent.set(id, { rules, priorityLevel, behaviours });
      this.trimSentTimes();
      this.sent += 1;
    } finally {
      this.inFlight.delete(id);
      this.pump();
    }
  }

  /**
   * The report to send next: the oldest `opened` one first (a new incident
   * must not wait behind updates), then the oldest urgent update, then the
   * oldest update whose signal was not sent within `updateIntervalMs`; or how
   * long until one is due.
   */
  private nextDue(now: number): { id: string; pending: Pending; waitMs: number } | null {
    const interval = this.opts.updateIntervalMs ?? 1_000;
    let firstUpdate: { id: string; pending: Pending; waitMs: number } | null = null;
    let firstUrgent: { id: string; pending: Pending; waitMs: number } | null = null;
    for (const [id, p] of this.pending) {
      if (this.inFlight.has(id)) continue;
      if (p.opened) return { id, pending: p, waitMs: 0 };
      if (p.urgent) {
        firstUrgent ??= { id, pending: p, waitMs: 0 };
        continue;
      }
      const last = this.lastSentAt.get(id);
      const waitMs = last === undefined ? 0 : Math.max(0, last + interval - now);
      if (firstUpdate === null || waitMs < firstUpdate.waitMs) firstUpdate = { id, pending: p, waitMs };
    }
    return firstUrgent ?? firstUpdate;
  }

  private wakeAt(at: number): void {
    if (this.timer !== null && this.timer.at <= at) return;
    if (this.timer !== null) clearTimeout(this.timer.handle);
    const handle = setTimeout(
      () => {
        this.timer = null;
        this.pump();
      },
      Math.max(0, at - Date.now()),
    );
    this.timer = { handle, at };
  }

  private notifyIfIdle(): void {
    if (this.pending.size > 0 || this.inFlight.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private trimSentTimes(): void {
    // Bounded memory: forget send times (and revisions) of the oldest signals.
    const max = 50_000;
    for (const map of [this.lastSentAt, this.lastSent, this.revisions]) {
      while (map.size > max) {
        const oldest = map.keys().next().value;
        if (oldest === undefined) break;
        map.delete(oldest);
      }
    }
  }
}
