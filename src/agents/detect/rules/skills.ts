/** Detect's rule skills: `rules.propose` and `rules.apply` (coordinator → detect). */
import { defineSkill } from '../../../a2a/skill.ts';
import { RulesApplyInput, RulesApplyOutput, RulesProposeInput, RulesProposeOutput } from '../../contracts.ts';
import type { ApprovedRules } from './approved.ts';
import type { ProposalWorker } from './proposal-worker.ts';

export function ruleSkills(deps: { proposals: ProposalWorker; rules: ApprovedRules }) {
  const propose = defineSkill({
    id: 'rules.propose',
    name: 'Rule proposal',
    description:
      "A Falco rule for an incident: the analyst's candidate or a synthesized one, backtested on the event store",
    input: RulesProposeInput,
    output: RulesProposeOutput,
    handle: async (input, ctx) => {
      // On the proposal worker thread (1–2 s of CPU each), one at a time.
      const out = await deps.proposals.propose(input);
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
