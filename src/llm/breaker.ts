/**
 * Circuit breaker: closed → open after `failureThreshold` consecutive failed
 * calls → after `cooldownMs`, half-open lets exactly one probe through →
 * success closes it, failure re-opens it. Pure state with an injected clock.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeInFlight = false;
  readonly #opts: BreakerOptions;
  readonly #now: () => number;

  constructor(opts: BreakerOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#opts.cooldownMs) return 'half-open';
    return this.#state;
  }

  /** Whether a call may go out now. In half-open, grants one probe and refuses others until it reports. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open') return false;
    if (this.#probeInFlight) return false;
    this.#state = 'half-open';
    this.#probeInFlight = true;
    return true;
  }

  /** Milliseconds until a probe would be allowed (0 when not open). */
  retryInMs(): number {
    return this.#state === 'open' ? Math.max(0, this.#openedAt + this.#opts.cooldownMs - this.#now()) : 0;
  }

  onSuccess(): void {
    this.#state = 'closed';
    this.#failures = 0;
    this.#probeInFlight = false;
  }

  onFailure(): void {
    this.#probeInFlight = false;
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.#opts.failureThreshold) {
      this.#state = 'open';
      this.#openedAt = this.#now();
    }
  }

  /** A call that ended for reasons that say nothing about provider health (e.g. the caller aborted). */
  onNeutral(): void {
    this.#probeInFlight = false;
    if (this.#state === 'half-open') {
      this.#state = 'open'; // keep waiting for a real probe, without extending the cool-down
    }
  }
}
