/**
 * Signals leave detect through this outbox, so the gate never waits on the
 * coordinator: an `opened` report is sent at once, later `updated` reports of
 * the same signal are coalesced (only the newest is sent), and a failed send
 * is retried with backoff until it succeeds. Each report has a deterministic
 * message id (signal id + revision), so a retry that the coordinator already
 * handled is answered from its idempotency record instead of doing the work
 * twice. Bounded: beyond `maxPending` signals the oldest pending *update* is
 * dropped (its newer snapshot supersedes it); `opened` reports are never dropped.
 */
import type { SignalReportInput } from '../contracts.ts';

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
}

interface Pending {
  report: SignalReportInput;
  revision: number;
  opened: boolean;
}

export class SignalOutbox {
  private readonly pending = new Map<string, Pending>();
  private readonly revisions = new Map<string, number>();
  private readonly lastSentAt = new Map<string, number>();
  private running = false;
  private closed = false;
  private wake: (() => void) | null = null;
  private idle: Promise<void> = Promise.resolve();
  private settleIdle: (() => void) | null = null;
  sent = 0;
  failures = 0;
  droppedUpdates = 0;

  constructor(private readonly opts: SignalOutboxOptions) {}

  get depth(): number {
    return this.pending.size;
  }

  push(report: SignalReportInput): void {
    if (this.closed) return;
    const id = report.signal.id;
    const revision = (this.revisions.get(id) ?? 0) + 1;
    this.revisions.set(id, revision);
    const existing = this.pending.get(id);
    // An unsent `opened` stays `opened` (with the newer snapshot): the coordinator must see it open.
    const opened = report.kind === 'opened' || existing?.opened === true;
    this.pending.delete(id); // re-insert at the end: Map order is send order
    this.pending.set(id, { report: { ...report, kind: opened ? 'opened' : 'updated' }, revision, opened });
    this.evictIfFull();
    this.kick();
  }

  /** Resolves once nothing is pending (used by tests and the demo to know the pipeline settled). */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.running) await this.idle;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private evictIfFull(): void {
    const max = this.opts.maxPending ?? 10_000;
    if (this.pending.size <= max) return;
    for (const [id, p] of this.pending) {
      if (!p.opened) {
        this.pending.delete(id);
        this.droppedUpdates += 1;
        return;
      }
    }
  }

  private kick(): void {
    if (this.running) {
      this.wake?.();
      return;
    }
    this.running = true;
    this.idle = new Promise((resolve) => (this.settleIdle = resolve));
    void this.loop();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    try {
      while (!this.closed) {
        const next = this.nextDue();
        if (next === null) break;
        if (next.waitMs > 0) {
          await this.sleep(next.waitMs, true);
          continue;
        }
        const [id, p] = next.entry;
        const message: OutboxMessage = {
          messageId: `signal:${id}:${p.revision}`,
          report: p.report,
          traceparent: this.opts.traceparentFor(id),
        };
        try {
          await this.opts.send(message);
          // Only remove what was sent: a newer revision pushed meanwhile stays pending.
          if (this.pending.get(id)?.revision === p.revision) this.pending.delete(id);
          this.lastSentAt.set(id, Date.now());
          this.trimSentTimes();
          this.sent += 1;
          attempt = 0;
        } catch (err) {
          attempt += 1;
          this.failures += 1;
          this.opts.onError?.(err, message, attempt);
          const initial = this.opts.retryInitialMs ?? 200;
          const delay = Math.min(this.opts.retryMaxMs ?? 10_000, initial * 2 ** Math.min(attempt - 1, 16));
          // Not cut short by new pushes: a down coordinator is not hammered.
          await this.sleep(delay * (0.8 + 0.4 * Math.random()), false);
        }
      }
    } finally {
      this.running = false;
      this.settleIdle?.();
      if (this.pending.size > 0 && !this.closed) this.kick();
    }
  }

  /** The first pending report that may be sent now, or how long until one may. */
  private nextDue(): { entry: [string, Pending]; waitMs: number } | null {
    const interval = this.opts.updateIntervalMs ?? 1_000;
    const now = Date.now();
    let soonest: { entry: [string, Pending]; waitMs: number } | null = null;
    for (const entry of this.pending) {
      const [id, p] = entry;
      const last = this.lastSentAt.get(id);
      const waitMs = p.opened || last === undefined ? 0 : Math.max(0, last + interval - now);
      if (waitMs === 0) return { entry, waitMs };
      if (soonest === null || waitMs < soonest.waitMs) soonest = { entry, waitMs };
    }
    return soonest;
  }

  private trimSentTimes(): void {
    // Bounded memory: forget send times (and revisions) of the oldest signals.
    const max = 50_000;
    for (const map of [this.lastSentAt, this.revisions]) {
      while (map.size > max) {
        const oldest = map.keys().next().value;
        if (oldest === undefined) break;
        map.delete(oldest);
      }
    }
  }

  private sleep(ms: number, interruptible: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = (): void => done();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = interruptible ? wake : null;
    });
  }
}
