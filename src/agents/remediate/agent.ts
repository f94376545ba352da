/**
 * The remediate agent: the only one that may write to the cluster. It turns
 * an analysis into proposals from the action catalogue (each the exact
 * Kubernetes objects, dry-run by default), and executes or rolls back a
 * proposal only when the coordinator asks with the approvals policy demands.
 * Without a cluster, a dry-run writes the manifests to a folder for review.
 */
import { mkdirSync } from 'node:fs';
import { readFile, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter } from 'prom-client';
import { defineSkill } from '../../a2a/skill.ts';
import { executeAction, rollbackAction } from '../../actions/execute.ts';
import { proposeActions } from '../../actions/propose.ts';
import { PolicyDecider } from '../../policy/decide.ts';
import { createPolicyEvaluator } from '../../policy/registry.ts';
import { ExecuteInput, ExecuteOutput, ProposeInput, ProposeOutput } from '../contracts.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';

/** Execution records, kept so that a rollback knows the state before. */
function recordPath(dir: string, proposalId: string): string {
  return join(dir, `${encodeURIComponent(proposalId)}.json`);
}

export async function createRemediateAgent(ctx: AgentContext): Promise<AgentParts> {
  const outputDir = join(ctx.dataDir, 'remediation');
  const recordsDir = join(outputDir, 'executions');
  mkdirSync(recordsDir, { recursive: true, mode: 0o700 });
  const outcomes = new Counter({
    name: 'falconer_remediation_actions_total',
    help: 'Remediation actions by kind, step and outcome',
    labelNames: ['kind', 'step', 'outcome'],
    registers: [ctx.registry],
  });

  // Fail closed: a remediate agent that cannot load its policy does not start.
  const evaluator = await createPolicyEvaluator(ctx.config.policy);
  const decider = new PolicyDecider({
    evaluator,
    audit: ctx.audit,
    falconerNamespace: ctx.config.policy.falconerNamespace,
    actor: 'remediate',
  });

  const propose = defineSkill({
    id: 'actions.propose',
    name: 'Propose actions',
    description:
      'Proposals from the action catalogue for an analysed incident, rendered as exact Kubernetes objects',
    input: ProposeInput,
    output: ProposeOutput,
    handle: async (input, skillCtx) => {
      const proposals = [];
      for (const p of proposeActions(input.incident, input.analysis, { dryRun: true })) {
        const decision = await decider.decide(p, input.incident, input.analysis);
        proposals.push({ ...p, decision });
        const outcome = !decision.allowed
          ? 'denied'
          : decision.requiresApproval
            ? 'needs-approval'
            : 'allowed';
        outcomes.inc({ kind: p.kind, step: 'propose', outcome });
      }
      skillCtx.logger.info(
        {
          incidentId: input.incident.id,
          proposals: proposals.map((p) => `${p.kind}:${p.decision.allowed ? 'allowed' : 'denied'}`),
        },
        'actions proposed',
      );
      return { proposals };
    },
  });

  const execute = defineSkill({
    id: 'actions.execute',
    name: 'Execute an action',
    description:
      'Applies an approved proposal (server-side dry-run or manifests when dry-run), recording before/after',
    input: ExecuteInput,
    output: ExecuteOutput,
    handle: async (input, skillCtx) => {
      const result = await executeAction(input.proposal, { outputDir, approvals: input.approvals });
      const file = recordPath(recordsDir, input.proposal.id);
      await writeFile(`${file}.tmp`, JSON.stringify({ proposal: input.proposal, result }), { mode: 0o600 });
      await rename(`${file}.tmp`, file);
      outcomes.inc({ kind: input.proposal.kind, step: 'execute', outcome: result.status });
      skillCtx.logger.info(
        {
          incidentId: input.incidentId,
          proposalId: input.proposal.id,
          status: result.status,
          reason: result.reason,
        },
        'action executed',
      );
      return result;
    },
  });

  const rollback = defineSkill({
    id: 'actions.rollback',
    name: 'Roll back an action',
    description: 'Restores the state recorded before an executed proposal',
    input: ExecuteInput,
    output: ExecuteOutput,
    handle: async (input, skillCtx) => {
      let executed: ExecuteOutput;
      try {
        const record = JSON.parse(await readFile(recordPath(recordsDir, input.proposal.id), 'utf8')) as {
          result: unknown;
        };
        executed = ExecuteOutput.parse(record.result);
      } catch {
        return { status: 'refused', reason: `no execution record for proposal ${input.proposal.id}` };
      }
      const result = await rollbackAction(input.proposal, executed, {
        outputDir,
        approvals: input.approvals,
      });
      outcomes.inc({ kind: input.proposal.kind, step: 'rollback', outcome: result.status });
      skillCtx.logger.info(
        { incidentId: input.incidentId, proposalId: input.proposal.id, status: result.status },
        'action rolled back',
      );
      return result;
    },
  });

  return {
    description:
      'Proposes and, once policy and people allow, executes remediation actions (dry-run by default)',
    skills: [propose, execute, rollback],
    ready: () => true,
    close: () => evaluator.close(),
  };
}
