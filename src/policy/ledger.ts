/**
 * The caller's history for the policy's hourly limits. Checking the limit
 * and recording the action happen under one lock, so a burst of concurrent
 * proposals cannot all see "9 of 10" and all pass.
 */
const HOUR_MS = 3_600_000;

export interface HistoryCounts {
  isolationsLastHour: number;
  actionsLastHour: number;
}

export interface ActionLedger {
  /** Runs fn alone: no other decision reads or records in between. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  counts(nowMs: number): HistoryCounts;
  record(id: string, kind: string, nowMs: number): void;
  /** Forget an entry (the action was rolled back before it took effect, or failed). */
  release(id: string): void;
}

export class MemoryActionLedger implements ActionLedger {
  private readonly entries = new Map<string, { kind: string; atMs: number }>();
  private tail: Promise<unknown> = Promise.resolve();

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  counts(nowMs: number): HistoryCounts {
    let isolations = 0;
    let actions = 0;
    for (const [id, e] of this.entries) {
      if (e.atMs <= nowMs - HOUR_MS) {
        this.entries.delete(id);
        continue;
      }
      actions++;
      if (e.kind === 'isolate-pod') isolations++;
    }
    return { isolationsLastHour: isolations, actionsLastHour: actions };
  }

  record(id: string, kind: string, nowMs: number): void {
    this.entries.set(id, { kind, atMs: nowMs });
  }

  release(id: string): void {
    this.entries.delete(id);
  }
}
