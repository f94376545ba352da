/**
 * `rules.backtest` over the event store: src/rules/tools.ts's handler with
 * the store's events, limited to the caller's namespaces.
 */
import type { RulesBacktestSkillInput } from '../../agents/contracts.ts';
import type { NormalizedEvent } from '../../events/types.ts';
import type { RulesSource } from '../../rules/loader.ts';
import { createRulesBacktest, type RulesBacktestOutput } from '../../rules/tools.ts';
import type { EventStore } from '../../store/event-store.ts';
import { inNamespaces, scopeSet } from './event-match.ts';

export function backtestOnStore(
  store: EventStore,
  input: RulesBacktestSkillInput,
  baseRules: readonly RulesSource[] = [],
): RulesBacktestOutput {
  const { namespaces: scope, ...request } = input;
  const namespaces = scopeSet(scope);
  const run = createRulesBacktest({
    baseRules,
    *events(query) {
      for (const e of store.iterate(query)) {
        // EventWire carries the NormalizedEvent fields the evaluator reads (priority as text).
        if (inNamespaces(e, namespaces)) yield e as unknown as NormalizedEvent;
      }
    },
  });
  return run(request);
}
