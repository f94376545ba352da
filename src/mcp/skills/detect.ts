/**
 * The detect agent's skills for the MCP tool server (caller `mcp` only, see
 * src/a2a/authz.ts): search, baseline and rule backtests over its event store.
 */
import { defineSkill, type AnySkillDefinition } from '../../a2a/skill.ts';
import {
  EventsBaselineInput,
  EventsBaselineOutput,
  EventsSearchInput,
  EventsSearchOutput,
  RulesBacktestOutput,
  RulesBacktestSkillInput,
} from '../../agents/contracts.ts';
import type { RulesSource } from '../../rules/loader.ts';
import type { EventStore } from '../../store/event-store.ts';
import { backtestOnStore } from '../queries/backtest.ts';
import { eventsBaseline } from '../queries/baseline.ts';
import { searchEvents } from '../queries/search.ts';

export function mcpSkillsOnStore(
  store: EventStore,
  baseRules: readonly RulesSource[] = [],
): AnySkillDefinition[] {
  return [
    defineSkill({
      id: 'events.search',
      name: 'Event search',
      description:
        'Stored events by workload, namespace, pod, container, time, rule and allow-listed field filters, newest first',
      input: EventsSearchInput,
      output: EventsSearchOutput,
      handle: async (input) => searchEvents(store, input),
    }),
    defineSkill({
      id: 'events.baseline',
      name: 'Event baseline',
      description: 'How common a process, parent, image, port or path prefix is in a workload and overall',
      input: EventsBaselineInput,
      output: EventsBaselineOutput,
      handle: async (input) => eventsBaseline(store, input),
    }),
    defineSkill({
      id: 'rules.backtest',
      name: 'Rule backtest',
      description: 'A candidate Falco rule run over the stored events: hits, misses, precision and recall',
      input: RulesBacktestSkillInput,
      output: RulesBacktestOutput,
      handle: async (input) => backtestOnStore(store, input, baseRules),
    }),
  ];
}
