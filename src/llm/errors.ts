/**
 * LLM error codes. LLM_BUDGET_EXHAUSTED and LLM_UNAVAILABLE are the two the
 * analyse agent treats as "fall back to the offline analyst and say so".
 */
import { FalconerError, isFalconerError } from '../errors.ts';

declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** A calls-per-minute or tokens-per-day budget is spent; the call was not made. */
    LLM_BUDGET_EXHAUSTED: true;
    /** The provider is down: breaker open, or retries on 429/5xx/network errors ran out. */
    LLM_UNAVAILABLE: true;
    /** One attempt took longer than timeoutMs (and retries, if any, ran out). */
    LLM_TIMEOUT: true;
    /** The provider refused the request (4xx other than 408/429): retrying will not help. */
    LLM_REQUEST_REJECTED: true;
    /** The provider answered 2xx with a body we cannot read. */
    LLM_BAD_RESPONSE: true;
  }
}

export type LlmErrorCode =
  'LLM_BUDGET_EXHAUSTED' | 'LLM_UNAVAILABLE' | 'LLM_TIMEOUT' | 'LLM_REQUEST_REJECTED' | 'LLM_BAD_RESPONSE';

/** Codes after which the caller should use the offline analyst. */
export const FALLBACK_CODES: ReadonlySet<string> = new Set<LlmErrorCode>([
  'LLM_BUDGET_EXHAUSTED',
  'LLM_UNAVAILABLE',
  'LLM_TIMEOUT',
]);

export function shouldFallBackToOffline(err: unknown): boolean {
  return isFalconerError(err) && FALLBACK_CODES.has(err.code);
}

/** Transport failure of one attempt; carries what the retry loop needs. */
export class LlmAttemptError extends FalconerError {
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    code: LlmErrorCode,
    message: string,
    opts: { retryable: boolean; retryAfterMs?: number; status?: number; context?: Record<string, unknown> },
    options?: ErrorOptions,
  ) {
    super(code, message, { ...opts.context, status: opts.status }, options);
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}
