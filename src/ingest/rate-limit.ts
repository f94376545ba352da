/**
 * Token buckets, counted in events: one global, one per client address. A
 * request takes as many tokens as it carries events, from both buckets at
 * once or from neither. Pure (clock injected), so tests need no sleeping.
 */
export class TokenBucket {
  readonly rate: number;
  readonly capacity: number;
  #tokens: number;
  #at: number;

  constructor(ratePerSecond: number, capacity: number, now: number) {
    this.rate = ratePerSecond;
    this.capacity = capacity;
    this.#tokens = capacity;
    this.#at = now;
  }

  tokens(now: number): number {
    if (now > this.#at) {
      this.#tokens = Math.min(this.capacity, this.#tokens + ((now - this.#at) / 1000) * this.rate);
      this.#at = now;
    }
    return this.#tokens;
  }

  /** Seconds until `n` tokens are available (0 when they are now). */
  waitSeconds(n: number, now: number): number {
    const missing = n - this.tokens(now);
    return missing <= 0 ? 0 : missing / this.rate;
  }

  take(n: number, now: number): void {
    this.tokens(now);
    this.#tokens -= n;
  }

  give(n: number, now: number): void {
    this.#tokens = Math.min(this.capacity, this.tokens(now) + n);
  }
}

export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterSeconds: number; readonly scope: 'global' | 'client' };

export interface RateLimiterOptions {
  readonly eventsPerSecond: number;
  readonly burst: number;
  readonly perClientEventsPerSecond: number;
  readonly perClientBurst: number;
  readonly maxClients?: number;
}

const DEFAULT_MAX_CLIENTS = 10_000;

export class RateLimiter {
  readonly #opts: RateLimiterOptions;
  readonly #global: TokenBucket;
  /** Insertion order doubles as recency: a client is re-inserted on each use, the oldest evicted first. */
  readonly #clients = new Map<string, TokenBucket>();
  readonly #maxClients: number;

  constructor(opts: RateLimiterOptions, now: number) {
    this.#opts = opts;
    this.#global = new TokenBucket(opts.eventsPerSecond, opts.burst, now);
    this.#maxClients = opts.maxClients ?? DEFAULT_MAX_CLIENTS;
  }

  /** The largest batch that can ever pass: bigger ones must be split by the sender. */
  get maxBatch(): number {
    return Math.floor(Math.min(this.#opts.burst, this.#opts.perClientBurst));
  }

  #client(address: string, now: number): TokenBucket {
    let bucket = this.#clients.get(address);
    if (bucket !== undefined) {
      this.#clients.delete(address);
    } else {
      bucket = new TokenBucket(this.#opts.perClientEventsPerSecond, this.#opts.perClientBurst, now);
      if (this.#clients.size >= this.#maxClients) {
        const oldest = this.#clients.keys().next();
        if (oldest.done !== true) this.#clients.delete(oldest.value);
      }
    }
    this.#clients.set(address, bucket);
    return bucket;
  }

  /** Cheap pre-check before reading a body: is there room for even one event? */
  admit(address: string, now: number): RateDecision {
    return this.#decide(address, 1, now, false);
  }

  /** Takes `n` tokens from the global and the client bucket, or none. */
  take(address: string, n: number, now: number): RateDecision {
    return this.#decide(address, n, now, true);
  }

  /** Returns tokens of a batch that was taken but then not accepted downstream. */
  refund(address: string, n: number, now: number): void {
    this.#global.give(n, now);
    this.#clients.get(address)?.give(n, now);
  }

  #decide(address: string, n: number, now: number, take: boolean): RateDecision {
    if (n <= 0) return { ok: true };
    const client = this.#client(address, now);
    const waitGlobal = this.#global.waitSeconds(n, now);
    const waitClient = client.waitSeconds(n, now);
    if (waitGlobal > 0 || waitClient > 0) {
      const scope = waitClient >= waitGlobal ? 'client' : 'global';
      return {
        ok: false,
        retryAfterSeconds: Math.max(1, Math.ceil(Math.max(waitGlobal, waitClient))),
        scope,
      };
    }
    if (take) {
      this.#global.take(n, now);
      client.take(n, now);
    }
    return { ok: true };
  }
}
