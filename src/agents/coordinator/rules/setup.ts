/**
 * The coordinator's rule-proposal half, from the `rules` config block: the
 * persistent proposal store, the approval gate with its deliveries (git
 * branch commit, ConfigMap file) and audit records, the proposer that asks
 * detect for rules, and what the HITL API needs.
 */
import { describeError } from '../../../errors.ts';
import { RuleApprovalGate, type AuditEntry } from '../../../rules/delivery/approval.ts';
import { resolveRulesDelivery, type RulesConfig } from '../../../rules/delivery/config.ts';
import { SqlRuleProposalStore } from '../../../rules/delivery/sql-store.ts';
import { digestOf } from '../../../store/audit-log.ts';
import type { Store } from '../../../store/db.ts';
import type { Logger } from '../../../telemetry/logger.ts';
import { findIncident } from '../incident-repo.ts';
import type { AuditSinkLike } from '../peers.ts';
import { RuleProposer, type RulePeers } from './proposer.ts';

export interface RuleProposals {
  readonly config: RulesConfig;
  readonly store: SqlRuleProposalStore;
  readonly gate: RuleApprovalGate;
  readonly proposer: RuleProposer;
  /** The engine's hook: an incident's analysis came back true_positive. */
  onTruePositive(incidentId: string): void;
  close(): Promise<void>;
}

export function createRuleProposals(opts: {
  config: RulesConfig;
  dataDir: string;
  store: Store;
  peers: RulePeers;
  audit: AuditSinkLike;
  logger: Logger;
  retry?: { initialMs?: number; maxMs?: number };
}): RuleProposals {
  const proposals = new SqlRuleProposalStore(opts.store);
  // The gate hands approved rules to the proposer, which needs the gate: one forward reference.
  const late: { proposer?: RuleProposer } = {};
  const audit = async (e: AuditEntry): Promise<void> => {
    const incident = await findIncident(opts.store.db, e.incidentId);
    await opts.audit.record({
      actor: e.by,
      action: e.action,
      inputDigest: digestOf({ proposalId: e.proposalId, incidentId: e.incidentId, action: e.action }),
      result: e.action.slice('rule.'.length),
      ...(incident !== undefined ? { traceId: incident.traceId } : {}),
      detail: { proposalId: e.proposalId, incidentId: e.incidentId, ...e.detail },
    });
  };
  const gate = new RuleApprovalGate({
    store: proposals,
    audit,
    ...resolveRulesDelivery(opts.config, opts.dataDir),
    onApproved: ({ proposalId }) => {
      void proposals
        .get(proposalId)
        .then((p) => p && late.proposer?.apply(p))
        .catch((err: unknown) =>
          opts.logger.error({ proposalId, err: describeError(err) }, 'cannot send approved rules to detect'),
        );
    },
  });
  const p = new RuleProposer({
    store: opts.store,
    proposals,
    gate,
    peers: opts.peers,
    logger: opts.logger,
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
  });
  late.proposer = p;
  return {
    config: opts.config,
    store: proposals,
    gate,
    proposer: p,
    onTruePositive: (incidentId) => {
      if (opts.config.proposeOnTruePositive) p.request(incidentId);
    },
    close: () => p.close(),
  };
}
