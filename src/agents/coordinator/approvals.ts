/**
 * Pure approval rules. A proposal's policy decision says whether, and by how
 * many distinct people, it must be approved; a proposal without a decision is
 * treated as needing one approval (the LLM never acts alone); a proposal
 * policy refused is never executed. Any rejection rejects the proposal.
 */
import type { ActionProposal } from '../contracts.ts';

export type ApprovalDecision = 'approve' | 'reject';

export interface ApprovalRecord {
  proposalId: string;
  by: string;
  decision: ApprovalDecision;
  at: number;
  via: 'api' | 'link';
}

export type ProposalState = 'refused' | 'pending' | 'approved' | 'rejected';

/** How many distinct approvers a proposal needs; undefined when policy refused it. */
export function approvalsRequired(proposal: ActionProposal): number | undefined {
  const d = proposal.decision;
  if (!d) return 1;
  if (!d.allowed) return undefined;
  if (!d.requiresApproval) return 0;
  return Math.max(1, d.approvalsRequired);
}

export function proposalState(proposal: ActionProposal, approvals: readonly ApprovalRecord[]): ProposalState {
  const required = approvalsRequired(proposal);
  if (required === undefined) return 'refused';
  const mine = approvals.filter((a) => a.proposalId === proposal.id);
  if (mine.some((a) => a.decision === 'reject')) return 'rejected';
  const approvers = new Set(mine.filter((a) => a.decision === 'approve').map((a) => a.by));
  return approvers.size >= required ? 'approved' : 'pending';
}

export function needsHuman(proposals: readonly ActionProposal[]): boolean {
  return proposals.some((p) => (approvalsRequired(p) ?? 0) > 0);
}

/** Every proposal decided: which to execute (possibly none). Undefined while any is pending. */
export function approvalOutcome(
  proposals: readonly ActionProposal[],
  approvals: readonly ApprovalRecord[],
): { approved: ActionProposal[] } | undefined {
  const approved: ActionProposal[] = [];
  for (const p of proposals) {
    const state = proposalState(p, approvals);
    if (state === 'pending') return undefined;
    if (state === 'approved') approved.push(p);
  }
  return { approved };
}
