/**
 * What the coordinator needs from the other agents. The A2A client
 * implements this over mTLS; tests implement it in process. Each call carries
 * a deterministic messageId per step, so a retry — also after a crash — is
 * answered from the peer's idempotency record instead of being done twice.
 */
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
import type { AuditLog } from '../../store/audit-log.ts';
import { formatTraceparent, newSpanId, newTraceContext, parseTraceparent } from '../../telemetry/tracing.ts';

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

/** The audit log the coordinator writes to (src/store/audit-log.ts). */
export type AuditSinkLike = Pick<AuditLog, 'record'>;

/** The trace id of a valid W3C traceparent, else undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

export function newTraceId(): string {
  return newTraceContext().traceId;
}

/** A child traceparent in the incident's trace (new span id, sampled). */
export function childTraceparent(traceId: string): string {
  return formatTraceparent({ traceId, spanId: newSpanId(), flags: 1 });
}
