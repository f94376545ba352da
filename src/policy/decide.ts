/**
 * The one place a proposal gets its policy decision: build the input,
 * evaluate it under the ledger's lock, audit the outcome. Any failure —
 * unknown action, malformed input, OPA down or slow, a stale bundle —
 * becomes a denial with a clear reason (fail closed), and is audited too.
 */
import type { ActionProposal, AnalysisResult, IncidentSummary, PolicyDecision } from '../agents/contracts.ts';
import { describeError } from '../errors.ts';
import type { AuditSink } from './audit.ts';
import type { PolicyEvaluator } from './evaluator.ts';
import { buildPolicyInput, inputDigest } from './input.ts';
import type { PolicyInput } from './input.ts';
import type { ActionLedger } from './ledger.ts';
import { MemoryActionLedger } from './ledger.ts';

export interface DeciderOptions {
  evaluator: PolicyEvaluator;
  audit: AuditSink;
  falconerNamespace: string;
  ledger?: ActionLedger;
  actor?: string;
  now?: () => number;
}

export class PolicyDecider {
  private readonly ledger: ActionLedger;
  private readonly now: () => number;

  constructor(private readonly options: DeciderOptions) {
    this.ledger = options.ledger ?? new MemoryActionLedger();
    this.now = options.now ?? Date.now;
  }

  decide(
    proposal: ActionProposal,
    incident: IncidentSummary,
    analysis: AnalysisResult,
  ): Promise<PolicyDecision> {
    return this.ledger.exclusive(() => this.decideLocked(proposal, incident, analysis));
  }

  private async decideLocked(
    proposal: ActionProposal,
    incident: IncidentSummary,
    analysis: AnalysisResult,
  ): Promise<PolicyDecision> {
    const nowMs = this.now();
    let input: PolicyInput | undefined;
    let decision: PolicyDecision;
    let failed = false;
    try {
      input = buildPolicyInput(proposal, incident, analysis, {
        ...this.ledger.counts(nowMs),
        falconerNamespace: this.options.falconerNamespace,
      });
      decision = await this.options.evaluator.evaluate(input);
    } catch (err) {
      failed = true;
      const digest = inputDigest(
        input ?? { kind: String(proposal.kind), target: proposal.target, id: proposal.id },
      );
      decision = {
        allowed: false,
        requiresApproval: false,
        approvalsRequired: 0,
        reasons: [
          `policy could not decide, so the action is denied (fail closed): ${describeError(err)}`.slice(
            0,
            500,
          ),
        ],
        bundleRevision: 'unavailable',
        inputDigest: digest,
      };
    }
    if (decision.allowed) this.ledger.record(proposal.id, proposal.kind, nowMs);
    const result = failed
      ? 'error'
      : !decision.allowed
        ? 'denied'
        : decision.requiresApproval
          ? 'approval-required'
          : 'allowed';
    await this.options.audit.record({
      actor: this.options.actor ?? 'remediate',
      action: `policy.decide:${String(proposal.kind).slice(0, 64)}`,
      inputDigest: decision.inputDigest,
      result,
      traceId: incident.traceId,
      detail: {
        proposalId: proposal.id,
        kind: String(proposal.kind).slice(0, 64),
        namespace: proposal.target.namespace.slice(0, 253),
        evaluator: this.options.evaluator.name,
        bundleRevision: decision.bundleRevision,
        approvalsRequired: decision.approvalsRequired,
        reasons: decision.reasons,
      },
    });
    return decision;
  }
}
