/**
 * `RuleProposalStore` on the coordinator's database (Kysely: SQLite or
 * PostgreSQL, table `rule_proposals` of src/store/migrations.ts). One proposal
 * per incident (a unique index). `decide` is one conditional UPDATE
 * (`… where id = ? and status = 'pending'`), so of two approvals racing —
 * in one process or in two — exactly one wins and the other gets
 * RULES_PROPOSAL_STATE.
 */
import type { Kysely } from 'kysely';
import { FalconerError } from '../../errors.ts';
import type { Store } from '../../store/db.ts';
import type { Database } from '../../store/schema.ts';
import type { ProposalStatus, RuleProposalStore, StoredProposal } from './approval.ts';
import './errors.ts';

export interface RuleProposalsTable {
  id: string;
  incident_id: string;
  status: string;
  yaml: string;
  /** SynthesizedRule[] JSON. */
  rules: string;
  /** ProposalReport JSON. */
  report: string;
  /** ISO 8601, as StoredProposal carries it. */
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
  reason: string | null;
  /** StoredProposal['delivery'] JSON. */
  delivery: string | null;
}

type Db = Kysely<Database & { rule_proposals: RuleProposalsTable }>;

const STATUSES: readonly ProposalStatus[] = ['pending', 'approved', 'rejected'];

function toRow(p: StoredProposal): RuleProposalsTable {
  return {
    id: p.id,
    incident_id: p.incidentId,
    status: p.status,
    yaml: p.yaml,
    rules: JSON.stringify(p.rules),
    report: JSON.stringify(p.report),
    created_at: p.createdAt,
    decided_at: p.decidedAt ?? null,
    decided_by: p.decidedBy ?? null,
    reason: p.reason ?? null,
    delivery: p.delivery === undefined ? null : JSON.stringify(p.delivery),
  };
}

function fromRow(r: RuleProposalsTable): StoredProposal {
  const status = STATUSES.find((s) => s === r.status);
  if (status === undefined)
    throw new FalconerError('RULES_PROPOSAL_STATE', `rule proposal ${r.id} has an unknown status`, {
      id: r.id,
      status: r.status,
    });
  return {
    id: r.id,
    incidentId: r.incident_id,
    yaml: r.yaml,
    rules: JSON.parse(r.rules) as StoredProposal['rules'],
    report: JSON.parse(r.report) as StoredProposal['report'],
    status,
    createdAt: r.created_at,
    ...(r.decided_at !== null ? { decidedAt: r.decided_at } : {}),
    ...(r.decided_by !== null ? { decidedBy: r.decided_by } : {}),
    ...(r.reason !== null ? { reason: r.reason } : {}),
    ...(r.delivery !== null ? { delivery: JSON.parse(r.delivery) as StoredProposal['delivery'] } : {}),
  };
}

export class SqlRuleProposalStore implements RuleProposalStore {
  private readonly db: Db;
  constructor(store: Pick<Store, 'db'>) {
    this.db = store.db.withTables<{ rule_proposals: RuleProposalsTable }>();
  }

  /** Inserts a new proposal; a second one for the same incident (or id) fails with RULES_PROPOSAL_STATE. */
  async put(p: StoredProposal): Promise<void> {
    const result = await this.db
      .insertInto('rule_proposals')
      .values(toRow(p))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0n) !== 1) {
      throw new FalconerError(
        'RULES_PROPOSAL_STATE',
        `a rule proposal for incident ${p.incidentId} (or with id ${p.id}) already exists`,
        { id: p.id, incidentId: p.incidentId },
      );
    }
  }

  async get(id: string): Promise<StoredProposal | undefined> {
    const row = await this.db
      .selectFrom('rule_proposals')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  /** The incident's proposal, if it has one. */
  async findByIncident(incidentId: string): Promise<StoredProposal | undefined> {
    const row = await this.db
      .selectFrom('rule_proposals')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async decide(
    id: string,
    d: { status: 'approved' | 'rejected'; by: string; at: string; reason?: string },
  ): Promise<StoredProposal> {
    // The check and the set are one statement: the database serializes racing decisions.
    const result = await this.db
      .updateTable('rule_proposals')
      .set({ status: d.status, decided_at: d.at, decided_by: d.by, reason: d.reason ?? null })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const current = await this.get(id);
    if (current === undefined)
      throw new FalconerError('RULES_PROPOSAL_NOT_FOUND', `no rule proposal ${id}`, { id });
    if (Number(result.numUpdatedRows) !== 1)
      throw new FalconerError('RULES_PROPOSAL_STATE', `rule proposal ${id} is already ${current.status}`, {
        id,
        status: current.status,
      });
    return current;
  }

  async update(p: StoredProposal): Promise<void> {
    const { id: _id, incident_id: _incident, ...row } = toRow(p);
    const result = await this.db
      .updateTable('rule_proposals')
      .set(row)
      .where('id', '=', p.id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1)
      throw new FalconerError('RULES_PROPOSAL_NOT_FOUND', `no rule proposal ${p.id}`, { id: p.id });
  }

  async list(status?: ProposalStatus): Promise<StoredProposal[]> {
    let q = this.db.selectFrom('rule_proposals').selectAll().orderBy('created_at', 'asc').orderBy('id');
    if (status !== undefined) q = q.where('status', '=', status);
    return (await q.execute()).map(fromRow);
  }
}
