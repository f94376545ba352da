/** Detect's rule skills: `rules.propose` and `rules.apply` (coordinator → detect). */
import { defineSkill } from '../../../a2a/skill.ts';
import type { EventStore } from '../../../store/event-store.ts';
import { RulesApplyInput, RulesApplyOutput, RulesProposeInput, RulesProposeOutput } from '../../contracts.ts';
import type { ApprovedRules } from './approved.ts';
import { proposeRule } from './propose.ts';

export function ruleSkills(deps: { store: EventStore; rules: ApprovedRules }) {
  // Synthesis is synchronous CPU work on detect's event loop (about 0.4–1.5 s on a 100k-event store):
  // one at a time, so that several true positives at once never stall ingest for their sum.
  let queue: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => T): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const propose = defineSkill({
    id: 'rules.propose',
    name: 'Rule proposal',
    description:
      "A Falco rule for an incident: the analyst's candidate or a synthesized one, backtested on the event store",
    input: RulesProposeInput,
    output: RulesProposeOutput,
    handle: async (input, ctx) => {
      const out = await oneAtATime(() => proposeRule(deps.store, input));
      ctx.logger.info(
        {
          incidentId: input.incidentId,
          status: out.status,
          ...(out.status === 'proposed'
            ? { origin: out.origin, rules: out.rules.map((r) => r.name) }
            : { reason: out.reason }),
        },
        'rule proposal',
      );
      return out;
    },
  });
  const apply = defineSkill({
    id: 'rules.apply',
    name: 'Apply approved rules',
    description: 'Persists and activates an approved rules file: matching events are tagged and forwarded',
    input: RulesApplyInput,
    output: RulesApplyOutput,
    handle: async (input, ctx) => {
      const { applied, rules } = await deps.rules.apply(input.proposalId, input.yaml);
      ctx.logger.info({ proposalId: input.proposalId, applied, rules }, 'approved rules applied');
      return { applied, rules, active: deps.rules.size };
    },
  });
  return [propose, apply];
}
