/** LLM metrics on an injected prom-client registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BudgetName } from './budget.ts';

export type CallOutcome =
  | 'ok'
  | 'budget_exhausted'
  | 'breaker_open'
  | 'unavailable'
  | 'timeout'
  | 'rejected'
  | 'bad_response'
  | 'aborted';

export class LlmMetrics {
  readonly calls: Counter<'provider' | 'model' | 'prompt' | 'prompt_version' | 'outcome'>;
  readonly tokens: Counter<'provider' | 'model' | 'direction'>;
  readonly duration: Histogram<'provider' | 'model' | 'outcome'>;
  readonly budgetRemaining: Gauge<'budget'>;

  constructor(registry: Registry) {
    this.calls = new Counter({
      name: 'falconer_llm_calls_total',
      help: 'LLM calls by provider, model, prompt and outcome (one per logical call, retries included)',
      labelNames: ['provider', 'model', 'prompt', 'prompt_version', 'outcome'],
      registers: [registry],
    });
    this.tokens = new Counter({
      name: 'falconer_llm_tokens_total',
      help: 'LLM tokens, direction=in (prompt) or out (completion)',
      labelNames: ['provider', 'model', 'direction'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'falconer_llm_call_duration_seconds',
      help: 'Wall time of one logical LLM call, retries and backoff included',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.budgetRemaining = new Gauge({
      name: 'falconer_llm_budget_remaining_ratio',
      help: 'Fraction of each LLM budget left (1 when unlimited)',
      labelNames: ['budget'],
      registers: [registry],
    });
  }

  setBudget(name: BudgetName, ratio: number): void {
    this.budgetRemaining.set({ budget: name }, ratio);
  }
}
