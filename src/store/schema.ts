/**
 * The row types of the coordinator's database (Kysely's compile-time view of
 * the tables that src/store/migrations.ts creates). JSON columns are TEXT in
 * both dialects so that one code path serves SQLite and PostgreSQL; times are
 * epoch milliseconds (BIGINT, read back as numbers).
 */
export interface IncidentsTable {
  id: string;
  workload_key: string;
  /** WorkloadWire JSON. */
  workload: string;
  status: string;
  severity: string;
  /** The most urgent Falco priority level (0 = Emergency) seen among its signals. */
  priority_level: number;
  trace_id: string;
  created_at: number;
  updated_at: number;
  last_signal_at: number;
  /** AnalysisResult JSON once analysed. */
  analysis: string | null;
  /** ActionProposal[] JSON once proposed. */
  proposals: string | null;
  /** { [proposalId]: ExecuteOutput } JSON, filled while remediating. */
  executions: string | null;
  approval_expires_at: number | null;
  /** Why the incident was dismissed (false positive, nothing to do, approvals expired, rejected…). */
  reason: string | null;
  /** A human's verdict (true_positive | false_positive), when one was given. */
  verdict: string | null;
  /** Consecutive failed attempts of the current step (reset on every transition). */
  attempts: number;
  last_error: string | null;
}

export interface IncidentSignalsTable {
  incident_id: string;
  signal_id: string;
  /** The latest SignalReportInput JSON for this signal (signal + forwarded events). */
  report: string;
  received_at: number;
}

export interface IncidentTimelineTable {
  incident_id: string;
  seq: number;
  from_status: string | null;
  to_status: string;
  at: number;
  actor: string;
  reason: string;
  detail: string | null;
}

export interface ProcessedMessagesTable {
  message_id: string;
  skill: string;
  output: string;
  at: number;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  actor: string;
  action: string;
  input_digest: string;
  result: string;
  trace_id: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** One row (id = 1): the last appended record, so that deleting the tail is detected. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface UsedLinkTokensTable {
  jti: string;
  used_at: number;
  incident_id: string;
  proposal_id: string;
  action: string;
}

export interface NotificationsTable {
  dedupe_key: string;
  incident_id: string;
  kind: string;
  created_at: number;
  sent_at: number | null;
}

export interface ApprovalsTable {
  incident_id: string;
  proposal_id: string;
  by: string;
  decision: string;
  at: number;
  via: string;
}

/** Side effects decided by a transition, executed after it commits (transactional outbox). */
export interface OutboxTable {
  message_id: string;
  incident_id: string;
  skill: string;
  payload: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: number;
  done_at: number | null;
  output: string | null;
}

export interface Database {
  incidents: IncidentsTable;
  incident_signals: IncidentSignalsTable;
  incident_timeline: IncidentTimelineTable;
  processed_messages: ProcessedMessagesTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  used_link_tokens: UsedLinkTokensTable;
  notifications: NotificationsTable;
  approvals: ApprovalsTable;
  outbox: OutboxTable;
}
