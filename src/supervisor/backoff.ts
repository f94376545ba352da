/**
 * Restart policy of a supervised process: exponential backoff with jitter,
 * reset once the process has stayed up long enough. Pure, so it is tested
 * without processes or clocks.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** A process that stayed up this long is healthy again: the next crash restarts at initialMs. */
  readonly stableAfterMs: number;
  /** 0 = none; 0.2 = ±20 %. */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  stableAfterMs: 60_000,
  jitter: 0.2,
});

/** The delay before restart number `attempt` (1-based) of a process that ran for `uptimeMs`. */
export function restartDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(base + spread));
}

/** The attempt counter after a crash: back to 1 if the process had been stable. */
export function nextAttempt(policy: BackoffPolicy, previousAttempt: number, uptimeMs: number): number {
  return uptimeMs >= policy.stableAfterMs ? 1 : previousAttempt + 1;
}
