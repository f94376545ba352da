/**
 * LlmClient: one provider behind budgets, a circuit breaker, retries with
 * jittered backoff, metrics and a log line per call. Fails fast with
 * LLM_BUDGET_EXHAUSTED / LLM_UNAVAILABLE so the caller can fall back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { FalconerError, isFalconerError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { backoffDelayMs, type BackoffOptions } from './backoff.ts';
import { CircuitBreaker } from './breaker.ts';
import { Budget } from './budget.ts';
import type { LlmProviderConfig } from './config.ts';
import { LlmAttemptError } from './errors.ts';
import { LlmMetrics, type CallOutcome } from './metrics.ts';
import { createProvider } from './registry.ts';
import { resolveApiKey } from './secret.ts';
import type { ChatProvider, ChatRequest, ChatResponse } from './types.ts';

export interface LlmClientOptions {
  provider: ChatProvider;
  maxRetries: number;
  backoff: BackoffOptions;
  budget: Budget;
  breaker: CircuitBreaker;
  registry: Registry;
  logger?: Logger;
  /** Longest Retry-After we will wait; beyond it the call fails as unavailable. */
  maxRetryAfterMs?: number;
}

/** What one call cost and how it went, returned with the response (the analyse agent records it on the incident). */
export interface CallRecord {
  provider: string;
  model: string;
  prompt: { name: string; version: string; hash: string };
  traceId: string | undefined;
  attempts: number;
  durationMs: number;
}

export class LlmClient {
  readonly #o: LlmClientOptions;
  readonly #metrics: LlmMetrics;

  constructor(opts: LlmClientOptions) {
    this.#o = opts;
    this.#metrics = new LlmMetrics(opts.registry);
    this.#publishBudgets();
  }

  get provider(): ChatProvider {
    return this.#o.provider;
  }

  get breakerState(): string {
    return this.#o.breaker.state;
  }

  async complete(
    req: ChatRequest,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<{ response: ChatResponse; record: CallRecord }> {
    const { provider, budget, breaker } = this.#o;
    const started = performance.now();
    const base = {
      provider: provider.kind,
      model: provider.model,
      prompt: { ...req.prompt },
      traceId: req.traceId,
    };
    let attempts = 0;
    const finish = (outcome: CallOutcome, err?: unknown): CallRecord => {
      const durationMs = performance.now() - started;
      this.#metrics.calls.inc({
        provider: provider.kind,
        model: provider.model,
        prompt: req.prompt.name,
        prompt_version: req.prompt.version,
        outcome,
      });
      this.#metrics.duration.observe(
        { provider: provider.kind, model: provider.model, outcome },
        durationMs / 1000,
      );
      this.#publishBudgets();
      const record = { ...base, attempts, durationMs: Math.round(durationMs) };
      const line = {
        llm: { ...record, outcome, ...(err ? { error: isFalconerError(err) ? err.code : 'error' } : {}) },
        trace_id: req.traceId,
      };
      if (outcome === 'ok') this.#o.logger?.info(line, 'llm call');
      else
        this.#o.logger?.warn(
          { ...line, err: err instanceof Error ? err.message : String(err) },
          'llm call failed',
        );
      return record;
    };

    const spent = budget.tryConsumeCall();
    if (spent) {
      const err = new FalconerError(
        'LLM_BUDGET_EXHAUSTED',
        `LLM budget ${spent} is spent; the offline analyst answers until it resets`,
        { budget: spent, resetInMs: budget.resetInMs(spent), provider: provider.kind },
      );
      finish('budget_exhausted', err);
      throw err;
    }

    for (;;) {
      if (!breaker.tryAcquire()) {
        const err = new FalconerError(
          'LLM_UNAVAILABLE',
          `LLM provider ${provider.kind} is failing (circuit open); the offline analyst answers until a probe succeeds`,
          { provider: provider.kind, retryInMs: breaker.retryInMs() },
        );
        finish('breaker_open', err);
        throw err;
      }
      attempts += 1;
      try {
        const response = await provider.complete(req, signal);
        breaker.onSuccess();
        budget.chargeTokens(response.usage.inputTokens + response.usage.outputTokens);
        this.#metrics.tokens.inc(
          { provider: provider.kind, model: provider.model, direction: 'in' },
          response.usage.inputTokens,
        );
        this.#metrics.tokens.inc(
          { provider: provider.kind, model: provider.model, direction: 'out' },
          response.usage.outputTokens,
        );
        return { response, record: finish('ok') };
      } catch (err) {
        if (signal.aborted) {
          breaker.onNeutral();
          finish('aborted', err);
          throw err;
        }
        const attempt = err instanceof LlmAttemptError ? err : undefined;
        // A rejected or unreadable request is our problem, not the provider's health.
        if (attempt && !attempt.retryable) breaker.onNeutral();
        else breaker.onFailure();
        const retryAfter = attempt?.retryAfterMs;
        const tooLong = retryAfter !== undefined && retryAfter > (this.#o.maxRetryAfterMs ?? 60_000);
        if (!attempt?.retryable || attempts > this.#o.maxRetries || tooLong) {
          finish(outcomeOf(err), err);
          throw err;
        }
        try {
          await sleep(backoffDelayMs(attempts - 1, this.#o.backoff, retryAfter), undefined, { signal });
        } catch (abort) {
          finish('aborted', abort); // the caller gave up while we waited
          throw abort;
        }
      }
    }
  }

  #publishBudgets(): void {
    this.#metrics.setBudget('calls_per_minute', this.#o.budget.remainingRatio('calls_per_minute'));
    this.#metrics.setBudget('tokens_per_day', this.#o.budget.remainingRatio('tokens_per_day'));
  }
}

function outcomeOf(err: unknown): CallOutcome {
  if (!isFalconerError(err)) return 'unavailable';
  switch (err.code) {
    case 'LLM_TIMEOUT':
      return 'timeout';
    case 'LLM_REQUEST_REJECTED':
      return 'rejected';
    case 'LLM_BAD_RESPONSE':
      return 'bad_response';
    default:
      return 'unavailable';
  }
}

/** Builds a client from the `llm.provider` config block. */
export async function createLlmClient(
  cfg: LlmProviderConfig,
  deps: {
    registry: Registry;
    logger?: Logger;
    env?: NodeJS.ProcessEnv;
    now?: () => number;
    random?: () => number;
  },
): Promise<LlmClient> {
  const apiKey = await resolveApiKey(cfg, deps.env);
  return new LlmClient({
    provider: createProvider(cfg, apiKey),
    maxRetries: cfg.maxRetries,
    backoff: { ...cfg.backoff, ...(deps.random ? { random: deps.random } : {}) },
    budget: new Budget({ ...cfg.budgets, ...(deps.now ? { now: deps.now } : {}) }),
    breaker: new CircuitBreaker({ ...cfg.breaker, ...(deps.now ? { now: deps.now } : {}) }),
    registry: deps.registry,
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}
