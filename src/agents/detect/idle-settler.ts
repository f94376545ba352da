/**
 * Stores the events detect deferred (`EventStore.addLater`) while it has
 * nothing to gate. Storing an event costs its SHA-256 id and a bounded copy,
 * about a fifth of detect's CPU at 5,000 events/s; done inline, every event
 * queued behind a burst paid it before an attack event further back was
 * gated and its signal sent. Deferred, a burst is gated first and stored
 * after it. Reads never miss a deferred event (the store stores them first),
 * and the store's own bound (`maxPending`) caps how many can wait.
 */
import type { EventStore } from '../../store/event-store.ts';

export interface IdleSettlerOptions {
  /** Events stored per turn of the event loop (default 256: a few ms, then ingest and gating run). */
  readonly chunkEvents?: number;
  /** How long to wait before looking again while there is gating to do (default 2 ms). */
  readonly busyRetryMs?: number;
}

export class IdleSettler {
  readonly #store: EventStore;
  readonly #busy: () => boolean;
  readonly #chunk: number;
  readonly #retryMs: number;
  #scheduled = false;
  #closed = false;

  /** `busy`: whether events wait to be gated (they go first). */
  constructor(store: EventStore, busy: () => boolean, opts: IdleSettlerOptions = {}) {
    this.#store = store;
    this.#busy = busy;
    this.#chunk = opts.chunkEvents ?? 256;
    this.#retryMs = opts.busyRetryMs ?? 2;
  }

  /** Call after handing the store events with addLater: a run is scheduled unless one is. */
  kick(): void {
    if (this.#scheduled || this.#closed || this.#store.pendingCount === 0) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  /** Stops scheduling; whatever still waits is stored by the store's next read (or its close). */
  close(): void {
    this.#closed = true;
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    if (this.#closed || this.#store.pendingCount === 0) return;
    this.#scheduled = true;
    if (this.#busy()) {
      setTimeout(this.#run, this.#retryMs);
      return;
    }
    if (this.#store.settle(this.#chunk) > 0) setImmediate(this.#run);
    else this.#scheduled = false;
  };
}
