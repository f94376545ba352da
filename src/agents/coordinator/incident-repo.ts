/**
 * Reading and writing incidents: the only place that knows the table
 * layout. Every status change goes through `transition`, which checks the
 * state table, updates the row only if it is still in the expected state
 * (so a concurrent writer loses cleanly) and appends the timeline row, all in
 * the caller's transaction.
 */
import { sql, type Kysely } from 'kysely';
import { FalconerError } from '../../errors.ts';
import type { Database, IncidentsTable } from '../../store/schema.ts';
import type {
  ActionProposal,
  AnalysisResult,
  EventWire,
  ExecuteOutput,
  IncidentSummary,
  PriorIncident,
  Severity,
  SignalReportInput,
  SignalWire,
  WorkloadWire,
} from '../contracts.ts';
import type { ApprovalDecision, ApprovalRecord } from './approvals.ts';
import { assertTransition, isIncidentStatus, type IncidentStatus } from './state-machine.ts';
import './errors.ts';

export type Db = Kysely<Database>;

export interface Incident {
  id: string;
  workloadKey: string;
  workload: WorkloadWire;
  status: IncidentStatus;
  severity: Severity;
  priorityLevel: number;
  traceId: string;
  createdAt: number;
  updatedAt: number;
  lastSignalAt: number;
  analysis?: AnalysisResult;
  proposals?: ActionProposal[];
  executions: Record<string, ExecuteOutput>;
  approvalExpiresAt?: number;
  reason?: string;
  verdict?: 'true_positive' | 'false_positive';
  attempts: number;
  lastError?: string;
}

/** The fields every reader of an incident shows (HITL API, MCP `incident.get`). */
export function incidentHeader(incident: Incident) {
  return {
    id: incident.id,
    status: incident.status,
    severity: incident.severity,
    workload: incident.workload,
    traceId: incident.traceId,
    createdAt: incident.createdAt,
    updatedAt: incident.updatedAt,
    lastSignalAt: incident.lastSignalAt,
  };
}

export interface TimelineEntry {
  seq: number;
  from: IncidentStatus | null;
  to: IncidentStatus;
  at: number;
  actor: string;
  reason: string;
  detail?: unknown;
}

function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

export function rowToIncident(row: IncidentsTable): Incident {
  if (!isIncidentStatus(row.status)) {
    throw new FalconerError('INCIDENT_CONFLICT', 'incident row has an unknown status', {
      incidentId: row.id,
      status: row.status,
    });
  }
  const analysis = parseJson<AnalysisResult>(row.analysis);
  const proposals = parseJson<ActionProposal[]>(row.proposals);
  return {
    id: row.id,
    workloadKey: row.workload_key,
    workload: JSON.parse(row.workload) as WorkloadWire,
    status: row.status,
    severity: row.severity as Severity,
    priorityLevel: Number(row.priority_level),
    traceId: row.trace_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    lastSignalAt: Number(row.last_signal_at),
    ...(analysis ? { analysis } : {}),
    ...(proposals ? { proposals } : {}),
    executions: parseJson<Record<string, ExecuteOutput>>(row.executions) ?? {},
    ...(row.approval_expires_at !== null ? { approvalExpiresAt: Number(row.approval_expires_at) } : {}),
    ...(row.reason !== null ? { reason: row.reason } : {}),
    ...(row.verdict === 'true_positive' || row.verdict === 'false_positive' ? { verdict: row.verdict } : {}),
    attempts: Number(row.attempts),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
  };
}

export async function findIncident(db: Db, id: string): Promise<Incident | undefined> {
  const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? rowToIncident(row) : undefined;
}

export async function getIncident(db: Db, id: string): Promise<Incident> {
  const incident = await findIncident(db, id);
  if (!incident) throw new FalconerError('INCIDENT_NOT_FOUND', 'no such incident', { incidentId: id });
  return incident;
}

export async function listIncidents(
  db: Db,
  opts: { statuses?: readonly IncidentStatus[]; limit?: number } = {},
): Promise<Incident[]> {
  let q = db
    .selectFrom('incidents')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(opts.limit ?? 200);
  if (opts.statuses) q = q.where('status', 'in', [...opts.statuses]);
  return (await q.execute()).map(rowToIncident);
}

export async function loadReports(db: Db, incidentId: string): Promise<SignalReportInput[]> {
  const rows = await db
    .selectFrom('incident_signals')
    .select(['report'])
    .where('incident_id', '=', incidentId)
    .orderBy('received_at', 'asc')
    .orderBy('signal_id')
    .execute();
  return rows.map((r) => JSON.parse(r.report) as SignalReportInput);
}

/** Prior incidents listed to the analysis at most. */
const MAX_PRIOR = 5;
const VERDICTS = new Set(['true_positive', 'false_positive', 'needs_review']);

/**
 * The workload's closed incidents whose last signal came within `windowMs` (event time) before this
 * incident's first, newest first: a follow-up's analysis sees what came just before it and how it
 * was judged.
 */
export async function priorIncidents(
  db: Db,
  incident: Incident,
  reports: readonly SignalReportInput[],
  windowMs: number,
): Promise<PriorIncident[]> {
  const firstSeen = Math.min(incident.lastSignalAt, ...reports.map((r) => r.signal.firstSeenMs));
  const rows = await db
    .selectFrom('incidents')
    .select(['id', 'status', 'analysis', 'verdict', 'last_signal_at'])
    .where('workload_key', '=', incident.workloadKey)
    .where('id', '!=', incident.id)
    .where('status', 'in', ['resolved', 'dismissed'])
    .where('created_at', '<=', incident.createdAt)
    .where('last_signal_at', '>=', firstSeen - windowMs)
    .orderBy('last_signal_at', 'desc')
    .limit(MAX_PRIOR)
    .execute();
  const prior: PriorIncident[] = [];
  for (const row of rows) {
    const rules = new Set<string>();
    for (const report of await loadReports(db, row.id))
      for (const rule of report.signal.rules) rules.add(rule);
    const analysed = row.analysis === null ? undefined : (JSON.parse(row.analysis) as AnalysisResult).verdict;
    const verdict = row.verdict ?? analysed;
    prior.push({
      id: row.id,
      status: row.status,
      ...(verdict !== undefined && VERDICTS.has(verdict) && { verdict: verdict as PriorIncident['verdict'] }),
      msBefore: Math.max(0, Math.trunc(firstSeen - Number(row.last_signal_at))),
      rules: [...rules].slice(0, 64),
    });
  }
  return prior;
}

export function summarize(incident: Incident, reports: readonly SignalReportInput[]): IncidentSummary {
  return {
    id: incident.id,
    workload: incident.workload,
    severity: incident.severity,
    status: incident.status,
    traceId: incident.traceId,
    signals: reports.slice(-100).map((r): SignalWire => r.signal),
  };
}

/** The incident's forwarded events, each once, newest reports last, at most `max`. */
export function collectEvents(reports: readonly SignalReportInput[], max: number): EventWire[] {
  const seen = new Set<string>();
  const out: EventWire[] = [];
  for (const r of reports) {
    for (const e of r.events) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      out.push(e);
    }
  }
  return out.slice(-max);
}

export function collectEventIds(reports: readonly SignalReportInput[], max: number): string[] {
  const ids = new Set<string>();
  for (const r of reports) for (const id of r.signal.eventIds) ids.add(id);
  return [...ids].slice(0, max);
}

export async function readTimeline(db: Db, incidentId: string): Promise<TimelineEntry[]> {
  const rows = await db
    .selectFrom('incident_timeline')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('seq', 'asc')
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    from: r.from_status as IncidentStatus | null,
    to: r.to_status as IncidentStatus,
    at: Number(r.at),
    actor: r.actor,
    reason: r.reason,
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as unknown } : {}),
  }));
}

export async function appendTimeline(
  trx: Db,
  incidentId: string,
  entry: Omit<TimelineEntry, 'seq'>,
): Promise<void> {
  // Lock the incident row first (a no-op update): on PostgreSQL two transactions
  // appending to one incident would otherwise both read the same max(seq) and
  // one would fail on the primary key. SQLite already serializes writers.
  await trx
    .updateTable('incidents')
    .set({ updated_at: sql<number>`updated_at` })
    .where('id', '=', incidentId)
    .execute();
  const last = await trx
    .selectFrom('incident_timeline')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  await trx
    .insertInto('incident_timeline')
    .values({
      incident_id: incidentId,
      seq: Number(last?.seq ?? 0) + 1,
      from_status: entry.from,
      to_status: entry.to,
      at: entry.at,
      actor: entry.actor,
      reason: entry.reason,
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
    })
    .execute();
}

export interface TransitionArgs {
  from: IncidentStatus;
  to: IncidentStatus;
  at: number;
  actor: string;
  reason: string;
  detail?: unknown;
  /** Other columns to set in the same update. */
  set?: Partial<Omit<IncidentsTable, 'id' | 'status'>>;
}

/**
 * Moves the incident from `from` to `to` if it is still in `from`; throws
 * INCIDENT_ILLEGAL_TRANSITION for a move the table forbids and
 * INCIDENT_CONFLICT when someone else changed the state first.
 */
export async function transition(trx: Db, incidentId: string, t: TransitionArgs): Promise<void> {
  assertTransition(t.from, t.to, incidentId);
  const result = await trx
    .updateTable('incidents')
    .set({ ...t.set, status: t.to, updated_at: t.at, attempts: 0, last_error: null })
    .where('id', '=', incidentId)
    .where('status', '=', t.from)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new FalconerError('INCIDENT_CONFLICT', 'the incident changed state concurrently', {
      incidentId,
      expected: t.from,
    });
  }
  await appendTimeline(trx, incidentId, {
    from: t.from,
    to: t.to,
    at: t.at,
    actor: t.actor,
    reason: t.reason,
    ...(t.detail !== undefined ? { detail: t.detail } : {}),
  });
}

export async function loadApprovals(db: Db, incidentId: string): Promise<ApprovalRecord[]> {
  const rows = await db
    .selectFrom('approvals')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('at', 'asc')
    .execute();
  return rows.map((r) => ({
    proposalId: r.proposal_id,
    by: r.by,
    decision: r.decision as ApprovalDecision,
    at: Number(r.at),
    via: r.via === 'link' ? 'link' : 'api',
  }));
}

export interface OutboxItem {
  messageId: string;
  incidentId: string;
  skill: 'notify' | 'feedback';
  payload: unknown;
  attempts: number;
}

/**
 * Queues a side effect in the caller's transaction. Notifications are keyed
 * by their dedupeKey in `notifications`: queuing one whose key exists is a
 * no-op, so no notification is ever issued twice.
 */
export async function enqueueOutbox(
  trx: Db,
  item: { messageId: string; incidentId: string; skill: 'notify' | 'feedback'; payload: unknown; at: number },
  notification?: { dedupeKey: string; kind: string },
): Promise<boolean> {
  if (notification) {
    const inserted = await trx
      .insertInto('notifications')
      .values({
        dedupe_key: notification.dedupeKey,
        incident_id: item.incidentId,
        kind: notification.kind,
        created_at: item.at,
        sent_at: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 0) return false;
  }
  const result = await trx
    .insertInto('outbox')
    .values({
      message_id: item.messageId,
      incident_id: item.incidentId,
      skill: item.skill,
      payload: JSON.stringify(item.payload),
      status: 'pending',
      attempts: 0,
      last_error: null,
      created_at: item.at,
      done_at: null,
      output: null,
    })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function pendingOutbox(db: Db, incidentId: string): Promise<OutboxItem[]> {
  const rows = await db
    .selectFrom('outbox')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .where('status', '=', 'pending')
    .orderBy('created_at', 'asc')
    .orderBy('message_id')
    .execute();
  return rows.map((r) => ({
    messageId: r.message_id,
    incidentId: r.incident_id,
    skill: r.skill === 'feedback' ? 'feedback' : 'notify',
    payload: JSON.parse(r.payload) as unknown,
    attempts: Number(r.attempts),
  }));
}
