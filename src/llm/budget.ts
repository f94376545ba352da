/**
 * Spend limits: calls per rolling minute and tokens per UTC day. Checked
 * before a call (fail fast, no request sent); tokens are charged after it.
 * Pure state with an injected clock.
 */
export interface BudgetOptions {
  /** 0 = unlimited. */
  callsPerMinute: number;
  /** 0 = unlimited. */
  tokensPerDay: number;
  now?: () => number;
}

export type BudgetName = 'calls_per_minute' | 'tokens_per_day';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export class Budget {
  readonly #opts: BudgetOptions;
  readonly #now: () => number;
  #callTimes: number[] = [];
  #day = -1;
  #tokensToday = 0;

  constructor(opts: BudgetOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  #roll(): void {
    const now = this.#now();
    const cutoff = now - MINUTE_MS;
    while (this.#callTimes.length > 0 && (this.#callTimes[0] ?? 0) <= cutoff) this.#callTimes.shift();
    const day = Math.floor(now / DAY_MS);
    if (day !== this.#day) {
      this.#day = day;
      this.#tokensToday = 0;
    }
  }

  /** The budget that is spent, or undefined; on undefined, the call is counted. */
  tryConsumeCall(): BudgetName | undefined {
    this.#roll();
    if (this.#opts.tokensPerDay > 0 && this.#tokensToday >= this.#opts.tokensPerDay) return 'tokens_per_day';
    if (this.#opts.callsPerMinute > 0 && this.#callTimes.length >= this.#opts.callsPerMinute)
      return 'calls_per_minute';
    this.#callTimes.push(this.#now());
    return undefined;
  }

  chargeTokens(tokens: number): void {
    this.#roll();
    this.#tokensToday += tokens;
  }

  /** Fraction left in [0, 1] (1 for an unlimited budget). */
  remainingRatio(name: BudgetName): number {
    this.#roll();
    const [used, limit] =
      name === 'calls_per_minute'
        ? [this.#callTimes.length, this.#opts.callsPerMinute]
        : [this.#tokensToday, this.#opts.tokensPerDay];
    return limit > 0 ? Math.max(0, 1 - used / limit) : 1;
  }

  /** Milliseconds until the named budget has room again. */
  resetInMs(name: BudgetName): number {
    const now = this.#now();
    if (name === 'calls_per_minute') return Math.max(0, (this.#callTimes[0] ?? now) + MINUTE_MS - now);
    return (Math.floor(now / DAY_MS) + 1) * DAY_MS - now;
  }
}
