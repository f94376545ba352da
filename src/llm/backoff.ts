/**
 * Jittered exponential backoff ("full jitter": uniform in [0, min(cap, base·2^n)]),
 * so many agents retrying together spread out. A server's Retry-After is a floor.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  random?: () => number;
}

export function backoffDelayMs(attempt: number, opts: BackoffOptions, retryAfterMs?: number): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** attempt);
  const jittered = Math.floor((opts.random ?? Math.random)() * ceiling);
  return retryAfterMs !== undefined ? Math.max(retryAfterMs, jittered) : jittered;
}
