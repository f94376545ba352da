import type { ProposalReport } from '../synthesize/evaluate-proposal.ts';

/** What delivery needs of a proposal. */
export interface DeliveryProposal {
  incidentId: string;
  /** The proposal's rules YAML. */
  yaml: string;
  ruleNames: string[];
  report: ProposalReport;
  approvedBy?: string;
}
