/**
 * Idempotent retries: the caller chooses the messageId, and a server that has
 * already answered a messageId answers again with the recorded output
 * instead of doing the work twice. Keys are opaque strings (the server scopes
 * them by caller identity, so one agent cannot read another's answers).
 */

export interface IdempotencyRecord {
  readonly skill: string;
  readonly output: unknown;
}

export interface IdempotencyStore {
  get(key: string): Promise<IdempotencyRecord | undefined>;
  put(key: string, skill: string, output: unknown): Promise<void>;
}

/** Bounded in-memory store: the oldest entries go first, and entries expire after `ttlMs`. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, IdempotencyRecord & { readonly atMs: number }>();
  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 24 * 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.atMs > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return { skill: e.skill, output: e.output };
  }

  async put(key: string, skill: string, output: unknown): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { skill, output, atMs: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
