/**
 * "Never send the same dedupeKey twice": the dispatcher asks a DedupeStore.
 * The default is in memory (bounded, oldest forgotten first, with a TTL); a
 * persistent one (SQLite, PostgreSQL) implements the same two methods so the
 * promise holds across restarts.
 */
export interface DedupeStore {
  /** Whether the key was recorded (and has not expired). */
  has(key: string): Promise<boolean>;
  /** Records the key as delivered. */
  add(key: string): Promise<void>;
}

export class MemoryDedupeStore implements DedupeStore {
  readonly #keys = new Map<string, number>();
  readonly #maxKeys: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(opts: { maxKeys?: number; ttlMs?: number; now?: () => number } = {}) {
    this.#maxKeys = opts.maxKeys ?? 100_000;
    this.#ttlMs = opts.ttlMs ?? 7 * 24 * 3_600_000;
    this.#now = opts.now ?? Date.now;
  }

  has(key: string): Promise<boolean> {
    const at = this.#keys.get(key);
    if (at === undefined) return Promise.resolve(false);
    if (this.#now() - at > this.#ttlMs) {
      this.#keys.delete(key);
      return Promise.resolve(false);
    }
    return Promise.resolve(true);
  }

  add(key: string): Promise<void> {
    this.#keys.delete(key);
    this.#keys.set(key, this.#now());
    // Map iteration is insertion order: the first key is the oldest.
    while (this.#keys.size > this.#maxKeys) {
      const oldest = this.#keys.keys().next().value as string;
      this.#keys.delete(oldest);
    }
    return Promise.resolve();
  }

  get size(): number {
    return this.#keys.size;
  }
}
