/**
 * Where policy decisions go. The store's hash-chained audit log implements
 * this interface; the memory and JSON-lines sinks serve tests and local runs.
 */
import { appendFileSync } from 'node:fs';

export interface AuditEntry {
  actor: string;
  action: string;
  /** sha256 of the canonical JSON of the policy input. */
  inputDigest: string;
  /** allowed | denied | approval-required | error */
  result: string;
  traceId: string;
  detail: Record<string, unknown>;
}

export interface AuditSink {
  record(entry: AuditEntry): void | Promise<void>;
}

export class MemoryAuditSink implements AuditSink {
  readonly entries: AuditEntry[] = [];
  record(entry: AuditEntry): void {
    this.entries.push(structuredClone(entry));
  }
}

export class JsonlAuditSink implements AuditSink {
  constructor(private readonly path: string) {}
  record(entry: AuditEntry): void {
    appendFileSync(this.path, `${JSON.stringify({ at: new Date().toISOString(), ...entry })}\n`, {
      mode: 0o600,
    });
  }
}
