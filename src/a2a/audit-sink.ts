/**
 * Where the A2A server writes its audit records. The persistent,
 * hash-chained implementation lives in src/store; this file defines the
 * contract and an in-memory sink for tests and single-process use.
 */

export type AuditResult = 'ok' | 'replayed' | 'refused' | 'invalid-input' | 'invalid-output' | 'failed';

export interface AuditRecordInput {
  /** Who acted: the caller's SPIFFE id ('unauthenticated' when it had none). */
  readonly actor: string;
  /** What was attempted: `a2a:<agent>/<skill>` (skill as sent, truncated; attacker-controlled). */
  readonly action: string;
  /** sha256 (hex) of the canonical JSON of the skill input as received. */
  readonly inputDigest: string;
  readonly result: AuditResult;
  /** 32 hex digits: the W3C trace id of the call. */
  readonly traceId: string;
  /** Why, for anything but 'ok' (safe to store; bounded). */
  readonly reason?: string;
  /** The A2A messageId of the call (caller-chosen, bounded). */
  readonly messageId?: string;
}

export interface AuditSink {
  /** Must not resolve before the record is durable; a rejection fails the call (no unaudited refusals or actions). */
  record(entry: AuditRecordInput): Promise<void>;
}

/** Keeps records in memory (bounded); for tests and `falconer up` without a store. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecordInput[] = [];
  constructor(private readonly max = 10_000) {}
  async record(entry: AuditRecordInput): Promise<void> {
    this.records.push(entry);
    if (this.records.length > this.max) this.records.splice(0, this.records.length - this.max);
  }
}
