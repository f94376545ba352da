/**
 * The approval gate: a proposed rule waits as `pending` until a human approves
 * or rejects it through the coordinator's HITL API (`approve(id, by)`,
 * `reject(id, by, reason)`). Every transition is audited through an injected
 * sink. On approval the rule is delivered (git commit on a branch, ConfigMap
 * file) and handed to `onApproved` (the detect agent loads approved rules).
 * The store is an interface; `InMemoryRuleProposalStore` is its reference.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FalconerError } from '../../errors.ts';
import type { RuleProposal, SynthesizedRule } from '../synthesize.ts';
import type { ProposalReport } from '../synthesize/evaluate-proposal.ts';
import { renderConfigMap, type ConfigMapOptions } from './configmap.ts';
import type { GitDelivery, GitOpsRepository } from './git.ts';
import { mergeRulesFile } from './rules-file.ts';
import { oneLine } from './text.ts';
import './errors.ts';

export type ProposalStatus = 'pending' | 'approved' | 'rejected';

export interface StoredProposal {
  id: string;
  incidentId: string;
  yaml: string;
  rules: SynthesizedRule[];
  report: ProposalReport;
  status: ProposalStatus;
  createdAt: string;
  decidedAt?: string;
  decidedBy?: string;
  reason?: string;
  delivery?: { git?: GitDelivery; configMapFile?: string };
}

export interface RuleProposalStore {
  put(p: StoredProposal): Promise<void>;
  get(id: string): Promise<StoredProposal | undefined>;
  /** Moves a pending proposal to a decision; fails with RULES_PROPOSAL_STATE if it is not pending. */
  decide(
    id: string,
    decision: { status: 'approved' | 'rejected'; by: string; at: string; reason?: string },
  ): Promise<StoredProposal>;
  update(p: StoredProposal): Promise<void>;
  list(status?: ProposalStatus): Promise<StoredProposal[]>;
}

export class InMemoryRuleProposalStore implements RuleProposalStore {
  private readonly items = new Map<string, StoredProposal>();
  async put(p: StoredProposal): Promise<void> {
    this.items.set(p.id, structuredClone(p));
  }
  async get(id: string): Promise<StoredProposal | undefined> {
    const p = this.items.get(id);
    return p === undefined ? undefined : structuredClone(p);
  }
  async decide(
    id: string,
    d: { status: 'approved' | 'rejected'; by: string; at: string; reason?: string },
  ): Promise<StoredProposal> {
    const p = this.items.get(id);
    if (p === undefined)
      throw new FalconerError('RULES_PROPOSAL_NOT_FOUND', `no rule proposal ${id}`, { id });
    // Check and set in one synchronous step: two concurrent approvals cannot both pass.
    if (p.status !== 'pending')
      throw new FalconerError('RULES_PROPOSAL_STATE', `rule proposal ${id} is already ${p.status}`, {
        id,
        status: p.status,
      });
    p.status = d.status;
    p.decidedAt = d.at;
    p.decidedBy = d.by;
    if (d.reason !== undefined) p.reason = d.reason;
    return structuredClone(p);
  }
  async update(p: StoredProposal): Promise<void> {
    if (!this.items.has(p.id))
      throw new FalconerError('RULES_PROPOSAL_NOT_FOUND', `no rule proposal ${p.id}`, { id: p.id });
    this.items.set(p.id, structuredClone(p));
  }
  async list(status?: ProposalStatus): Promise<StoredProposal[]> {
    return [...this.items.values()]
      .filter((p) => status === undefined || p.status === status)
      .map((p) => structuredClone(p));
  }
}

export interface AuditEntry {
  at: string;
  action: 'rule.proposed' | 'rule.approved' | 'rule.rejected' | 'rule.delivered';
  proposalId: string;
  incidentId: string;
  by: string;
  detail?: Record<string, string | number | boolean>;
}

export interface ApprovalGateDeps {
  store: RuleProposalStore;
  audit: (entry: AuditEntry) => void | Promise<void>;
  /** The GitOps working copy; omitted = no git delivery. */
  git?: GitOpsRepository;
  /** Where to write the ConfigMap of all approved rules; omitted = none. */
  configMap?: { file: string } & ConfigMapOptions;
  /** Approved rules go to the detect agent through this. */
  onApproved?: (rules: {
    proposalId: string;
    yaml: string;
    rules: SynthesizedRule[];
  }) => void | Promise<void>;
  now?: () => Date;
  newId?: () => string;
}

const MAX_BY = 200;

function actor(by: string): string {
  const s = oneLine(by, MAX_BY).trim();
  if (s.length === 0) throw new FalconerError('RULES_PROPOSAL_STATE', 'a decision needs who made it', {});
  return s;
}

export class RuleApprovalGate {
  constructor(private readonly deps: ApprovalGateDeps) {}

  /**
   * All approved rules merged in decision order, as the ConfigMap carries
   * them; rebuilt from the store so that a restarted (or a second)
   * coordinator writes the same file.
   */
  private async allApproved(current: StoredProposal): Promise<string> {
    const approved = (await this.deps.store.list('approved')).filter((a) => a.id !== current.id);
    approved.sort((a, b) => (a.decidedAt ?? '').localeCompare(b.decidedAt ?? '') || a.id.localeCompare(b.id));
    let text: string | undefined;
    for (const a of [...approved, current]) text = mergeRulesFile(text, a.yaml);
    return text!;
  }

  private now(): string {
    return (this.deps.now?.() ?? new Date()).toISOString();
  }

  async propose(
    incidentId: string,
    proposal: Pick<RuleProposal, 'yaml' | 'rules' | 'backtest'>,
    by = 'falconer',
  ): Promise<StoredProposal> {
    const p: StoredProposal = {
      id: this.deps.newId?.() ?? randomUUID(),
      incidentId,
      yaml: proposal.yaml,
      rules: proposal.rules,
      report: proposal.backtest,
      status: 'pending',
      createdAt: this.now(),
    };
    await this.deps.store.put(p);
    await this.deps.audit({
      at: p.createdAt,
      action: 'rule.proposed',
      proposalId: p.id,
      incidentId,
      by: actor(by),
      detail: {
        accepted: p.report.accepted,
        baselineHits: p.report.baseline.hits,
        incidentHits: p.report.incident.hits,
      },
    });
    return p;
  }

  async reject(id: string, by: string, reason = ''): Promise<StoredProposal> {
    const who = actor(by);
    const p = await this.deps.store.decide(id, {
      status: 'rejected',
      by: who,
      at: this.now(),
      reason: reason.slice(0, 2000),
    });
    await this.deps.audit({
      at: p.decidedAt!,
      action: 'rule.rejected',
      proposalId: id,
      incidentId: p.incidentId,
      by: who,
    });
    return p;
  }

  /** Approve, then deliver (git branch commit, ConfigMap file) and hand the rules to onApproved. */
  async approve(id: string, by: string): Promise<StoredProposal> {
    const who = actor(by);
    const p = await this.deps.store.decide(id, { status: 'approved', by: who, at: this.now() });
    await this.deps.audit({
      at: p.decidedAt!,
      action: 'rule.approved',
      proposalId: id,
      incidentId: p.incidentId,
      by: who,
    });
    const delivery: NonNullable<StoredProposal['delivery']> = {};
    if (this.deps.git !== undefined) {
      delivery.git = await this.deps.git.deliver({
        incidentId: p.incidentId,
        yaml: p.yaml,
        ruleNames: p.rules.map((r) => r.name),
        report: p.report,
        approvedBy: who,
      });
    }
    if (this.deps.configMap !== undefined) {
      const approvedFile = await this.allApproved(p);
      const { file, ...opts } = this.deps.configMap;
      await mkdir(dirname(file), { recursive: true });
      // Written whole and renamed: a reader (or a crash) never sees half a manifest.
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, renderConfigMap(approvedFile, opts));
      await rename(tmp, file);
      delivery.configMapFile = file;
    }
    p.delivery = delivery;
    await this.deps.store.update(p);
    await this.deps.audit({
      at: this.now(),
      action: 'rule.delivered',
      proposalId: id,
      incidentId: p.incidentId,
      by: who,
      detail: {
        ...(delivery.git !== undefined ? { branch: delivery.git.branch, commit: delivery.git.commit } : {}),
        ...(delivery.configMapFile !== undefined ? { configMap: delivery.configMapFile } : {}),
      },
    });
    await this.deps.onApproved?.({ proposalId: id, yaml: p.yaml, rules: p.rules });
    return p;
  }
}
