/**
 * Rule proposals for true-positive incidents. When an incident's analysis is
 * a true positive, detect is asked (`rules.propose`) for a Falco rule, with
 * the analyst's `proposedRule` as candidate; a rule it answers goes through
 * the approval gate (pending, persisted) and onto the incident's timeline.
 *
 * Idempotent: a `rule_requests` row per incident records the outcome
 * (proposed or none), the proposal store allows one proposal per incident,
 * and the detect call has a deterministic messageId — so a retried analysis,
 * a crash between steps or a second coordinator never makes a second
 * proposal. `resume()` finishes what a crash interrupted and re-sends every
 * approved rule to detect (`rules.apply` is idempotent there).
 */
import type { Kysely } from 'kysely';
import { describeError, isFalconerError } from '../../../errors.ts';
import type { RuleApprovalGate, StoredProposal } from '../../../rules/delivery/approval.ts';
import type { SqlRuleProposalStore } from '../../../rules/delivery/sql-store.ts';
import type { Store } from '../../../store/db.ts';
import type { Database } from '../../../store/schema.ts';
import type { Logger } from '../../../telemetry/logger.ts';
import type {
  RulesApplyInput,
  RulesApplyOutput,
  RulesProposeInput,
  RulesProposeOutput,
} from '../../contracts.ts';
import { appendTimeline, collectEventIds, findIncident, loadReports } from '../incident-repo.ts';
import { childTraceparent } from '../peers.ts';

export interface RulePeerContext {
  readonly messageId: string;
  readonly traceparent: string;
}

/** Detect's rule skills, as the coordinator calls them (A2A in production, in process in tests). */
export interface RulePeers {
  propose(input: RulesProposeInput, ctx: RulePeerContext): Promise<RulesProposeOutput>;
  apply(input: RulesApplyInput, ctx: RulePeerContext): Promise<RulesApplyOutput>;
}

export interface RuleRequestsTable {
  incident_id: string;
  /** proposed | none */
  outcome: string;
  proposal_id: string | null;
  reason: string | null;
  at: number;
}

type Db = Kysely<Database & { rule_requests: RuleRequestsTable }>;

export interface RuleProposerOptions {
  store: Pick<Store, 'db'>;
  proposals: SqlRuleProposalStore;
  gate: RuleApprovalGate;
  peers: RulePeers;
  logger: Logger;
  clock?: () => number;
  retry?: { initialMs?: number; maxMs?: number };
}

export class RuleProposer {
  private readonly db: Db;
  private readonly clock: () => number;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly opts: RuleProposerOptions) {
    this.db = opts.store.db.withTables<{ rule_requests: RuleRequestsTable }>();
    this.clock = opts.clock ?? Date.now;
  }

  /** Asks for the incident's rule in the background (once per incident; retried with backoff). */
  request(incidentId: string, attempt = 1): void {
    if (this.closed || this.inFlight.has(incidentId)) return;
    const run = this.propose(incidentId)
      .catch((err: unknown) => {
        if (this.closed) return;
        const base = this.opts.retry?.initialMs ?? 1000;
        const delay = Math.min(this.opts.retry?.maxMs ?? 60_000, base * 2 ** Math.min(attempt - 1, 16));
        this.opts.logger.warn(
          { incidentId, attempt, retryInMs: delay, err: describeError(err) },
          'rule proposal failed; will retry',
        );
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.request(incidentId, attempt + 1);
        }, delay);
        t.unref();
        this.timers.add(t);
      })
      .finally(() => this.inFlight.delete(incidentId));
    this.inFlight.set(incidentId, run);
  }

  /** Resolves when no request is running (retries may still be scheduled). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.idle();
  }

  /** After a start: requests every true positive without an outcome, re-sends every approved rule. */
  async resume(): Promise<void> {
    const rows = await this.db
      .selectFrom('incidents')
      .leftJoin('rule_requests', 'rule_requests.incident_id', 'incidents.id')
      .select(['incidents.id as id', 'incidents.analysis as analysis', 'incidents.verdict as verdict'])
      .where('rule_requests.incident_id', 'is', null)
      .where((eb) =>
        eb.or([eb('incidents.analysis', 'is not', null), eb('incidents.verdict', '=', 'true_positive')]),
      )
      .execute();
    for (const r of rows) {
      const analysed =
        r.analysis === null ? undefined : (JSON.parse(r.analysis) as { verdict?: string }).verdict;
      if (analysed === 'true_positive' || r.verdict === 'true_positive') this.request(r.id);
    }
    for (const p of await this.opts.proposals.list('approved')) this.apply(p);
  }

  /** Sends an approved proposal to detect, in the background, until detect has it. */
  apply(p: Pick<StoredProposal, 'id' | 'yaml' | 'incidentId'>, attempt = 1): void {
    if (this.closed) return;
    void (async () => {
      const incident = await findIncident(this.opts.store.db, p.incidentId);
      const out = await this.opts.peers.apply(
        { proposalId: p.id, yaml: p.yaml },
        {
          messageId: `rules.apply:${p.id}`,
          traceparent: childTraceparent(incident?.traceId ?? '0'.repeat(31) + '1'),
        },
      );
      this.opts.logger.info(
        { proposalId: p.id, incidentId: p.incidentId, applied: out.applied, active: out.active },
        'approved rules sent to detect',
      );
    })().catch((err: unknown) => {
      if (this.closed) return;
      const delay = Math.min(
        this.opts.retry?.maxMs ?? 60_000,
        (this.opts.retry?.initialMs ?? 1000) * 2 ** Math.min(attempt - 1, 16),
      );
      this.opts.logger.warn(
        { proposalId: p.id, attempt, retryInMs: delay, err: describeError(err) },
        'approved rules not delivered to detect yet; will retry',
      );
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.apply(p, attempt + 1);
      }, delay);
      t.unref();
      this.timers.add(t);
    });
  }

  private async outcomeOf(incidentId: string): Promise<RuleRequestsTable | undefined> {
    return this.db
      .selectFrom('rule_requests')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .executeTakeFirst();
  }

  private async propose(incidentId: string): Promise<void> {
    if ((await this.outcomeOf(incidentId)) !== undefined) return;
    const incident = await findIncident(this.opts.store.db, incidentId);
    if (incident === undefined) return;
    if (incident.analysis?.verdict !== 'true_positive' && incident.verdict !== 'true_positive') return;
    let proposal = await this.opts.proposals.findByIncident(incidentId);
    if (proposal === undefined) {
      const reports = await loadReports(this.opts.store.db, incidentId);
      const eventIds = collectEventIds(reports, 1000);
      if (eventIds.length === 0) {
        await this.record(incidentId, { outcome: 'none', reason: 'the incident has no events' });
        return;
      }
      const candidate = incident.analysis?.proposedRule;
      const out = await this.opts.peers.propose(
        {
          incidentId,
          workload: incident.workload,
          eventIds,
          ...(candidate !== undefined && candidate.trim() !== '' ? { candidate } : {}),
        },
        { messageId: `${incidentId}:rules.propose`, traceparent: childTraceparent(incident.traceId) },
      );
      if (out.status === 'none') {
        await this.record(incidentId, { outcome: 'none', reason: out.reason });
        this.opts.logger.info(
          { incidentId, traceId: incident.traceId, reason: out.reason },
          'no rule proposed',
        );
        return;
      }
      try {
        proposal = await this.opts.gate.propose(
          incidentId,
          { yaml: out.yaml, rules: out.rules, backtest: out.report },
          'detect',
        );
      } catch (err) {
        // Another coordinator got there first: its proposal is the incident's.
        if (!isFalconerError(err, 'RULES_PROPOSAL_STATE')) throw err;
        proposal = await this.opts.proposals.findByIncident(incidentId);
        if (proposal === undefined) throw err;
      }
      this.opts.logger.info(
        { incidentId, traceId: incident.traceId, proposalId: proposal.id, origin: out.origin },
        'rule proposed',
      );
    }
    await this.record(incidentId, { outcome: 'proposed', proposal });
  }

  /** The outcome row and the timeline entry, once, in one transaction. */
  private async record(
    incidentId: string,
    o: { outcome: 'proposed'; proposal: StoredProposal } | { outcome: 'none'; reason: string },
  ): Promise<void> {
    const at = this.clock();
    await this.db.transaction().execute(async (trx) => {
      // Lock the incident row first (a no-op update), as transitions do, so timeline numbers never collide.
      await trx
        .updateTable('incidents')
        .set((eb) => ({ attempts: eb.ref('attempts') }))
        .where('id', '=', incidentId)
        .execute();
      const inserted = await trx
        .insertInto('rule_requests')
        .values({
          incident_id: incidentId,
          outcome: o.outcome,
          proposal_id: o.outcome === 'proposed' ? o.proposal.id : null,
          reason: o.outcome === 'none' ? o.reason.slice(0, 4000) : null,
          at,
        })
        .onConflict((oc) => oc.column('incident_id').doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) !== 1) return;
      const inc = await trx
        .selectFrom('incidents')
        .select('status')
        .where('id', '=', incidentId)
        .executeTakeFirst();
      if (inc === undefined) return;
      const status = inc.status as Parameters<typeof appendTimeline>[2]['to'];
      await appendTimeline(trx as unknown as Kysely<Database>, incidentId, {
        from: status,
        to: status,
        at,
        actor: 'detect',
        reason:
          o.outcome === 'proposed'
            ? `rule proposal ${o.proposal.id} pending review: ${o.proposal.rules.map((r) => r.name).join(', ')}`
            : `no rule proposed: ${o.reason.slice(0, 500)}`,
        detail:
          o.outcome === 'proposed'
            ? {
                ruleProposalId: o.proposal.id,
                status: o.proposal.status,
                rules: o.proposal.rules.map((r) => r.name),
                incidentHits: o.proposal.report.incident.hits,
                baselineHits: o.proposal.report.baseline.hits,
                baselineEvents: o.proposal.report.baseline.events,
              }
            : { ruleProposal: 'none' },
      });
    });
  }
}
