/** AgentPrompt metrics on an injected prom-client registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** accepted: a new spec is in use; unchanged: same hash again; refused: invalid, the previous stays; removed: deleted. */
export type PromptLoadOutcome = 'accepted' | 'unchanged' | 'refused' | 'removed';

export class PromptMetrics {
  readonly loads: Counter<'outcome'>;
  readonly info: Gauge<'agent' | 'name' | 'version' | 'hash'>;
  readonly refusedResources: Gauge;

  constructor(registry: Registry) {
    this.loads = new Counter({
      name: 'falconer_prompt_loads_total',
      help: 'AgentPrompt resources seen by outcome (accepted, unchanged, refused, removed)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.info = new Gauge({
      name: 'falconer_prompt_info',
      help: 'The prompts in use (value 1), by agent, name, version and spec hash',
      labelNames: ['agent', 'name', 'version', 'hash'],
      registers: [registry],
    });
    this.refusedResources = new Gauge({
      name: 'falconer_prompt_refused_resources',
      help: 'AgentPrompt resources whose current spec is refused (an older accepted spec may still be in use)',
      registers: [registry],
    });
  }
}
