/**
 * What the coordinator needs from the other agents. The A2A client
 * implements this over mTLS; tests implement it in process. Each call carries
 * a deterministic messageId per step, so a retry — also after a crash — is
 * answered from the peer's idempotency record instead of being done twice.
 */
import { randomBytes } from 'node:crypto';
import type {
  AnalyseInput,
  AnalysisResult,
  ExecuteInput,
  ExecuteOutput,
  FeedbackInput,
  FeedbackOutput,
  NotifyInput,
  NotifyOutput,
  ProposeInput,
  ProposeOutput,
} from '../contracts.ts';

export interface PeerContext {
  /** Deterministic per incident and step, e.g. `<incidentId>:analyse`. */
  readonly messageId: string;
  /** W3C traceparent carrying the incident's trace id. */
  readonly traceparent: string;
  /** Aborted when the call times out or the coordinator stops. */
  readonly signal: AbortSignal;
}

export interface CoordinatorPeers {
  analyse(input: AnalyseInput, ctx: PeerContext): Promise<AnalysisResult>;
  propose(input: ProposeInput, ctx: PeerContext): Promise<ProposeOutput>;
  execute(input: ExecuteInput, ctx: PeerContext): Promise<ExecuteOutput>;
  notify(input: NotifyInput, ctx: PeerContext): Promise<NotifyOutput>;
  feedback(input: FeedbackInput, ctx: PeerContext): Promise<FeedbackOutput>;
}

/** Structurally the A2A AuditSink (src/a2a/audit-sink.ts); src/store/audit-log.ts implements it. */
export interface AuditSinkLike {
  record(entry: {
    actor: string;
    action: string;
    inputDigest: string;
    result: string;
    traceId?: string;
    detail?: object;
  }): Promise<void>;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The trace id of a valid W3C traceparent, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return undefined;
  return m[1];
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** A child traceparent in the incident's trace (new span id, sampled). */
export function childTraceparent(traceId: string): string {
  return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
}
