/**
 * The sidecar evaluator: POST /v1/data/falconer/remediation/decision to an
 * OPA server. Down, slow (past the timeout) or a malformed answer: a
 * POLICY_* error, and the caller denies (fail closed).
 */
import type { PolicyDecision } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import { POLICY_ENTRYPOINT } from './bundle.ts';
import type { PolicyEvaluator } from './evaluator.ts';
import { checkedInput, toDecision } from './evaluator.ts';
import type { PolicyInput } from './input.ts';

export interface OpaServerOptions {
  url: string;
  timeoutMs?: number;
  /** Largest answer accepted, bytes. */
  maxResponseBytes?: number;
}

interface OpaResponse {
  result?: unknown;
  provenance?: { version?: string; bundles?: Record<string, { revision?: string }> };
}

export class OpaServerEvaluator implements PolicyEvaluator {
  readonly name = 'opa-server';
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(options: OpaServerOptions) {
    const base = new URL(options.url);
    this.endpoint = new URL(
      `v1/data/${POLICY_ENTRYPOINT}?provenance=true`,
      base.href.endsWith('/') ? base : `${base.href}/`,
    ).href;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxBytes = options.maxResponseBytes ?? 256 * 1024;
  }

  async evaluate(input: PolicyInput): Promise<PolicyDecision> {
    const checked = checkedInput(input);
    const where = new URL(this.endpoint).origin;
    let text: string;
    try {
      const res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: checked }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
      if (!res.ok) {
        throw new FalconerError(
          'POLICY_SERVER_UNAVAILABLE',
          `OPA server at ${where} answered HTTP ${res.status}`,
          { status: res.status },
        );
      }
    } catch (err) {
      if (err instanceof FalconerError) throw err;
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new FalconerError(
          'POLICY_SERVER_TIMEOUT',
          `OPA server at ${where} did not answer within ${this.timeoutMs} ms`,
          { timeoutMs: this.timeoutMs },
        );
      }
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new FalconerError(
        'POLICY_SERVER_UNAVAILABLE',
        `OPA server at ${where} is unreachable (${cause})`,
        {},
        { cause: err },
      );
    }
    if (text.length > this.maxBytes) {
      throw new FalconerError(
        'POLICY_RESULT_INVALID',
        `OPA server at ${where} answered more than ${this.maxBytes} bytes`,
      );
    }
    let body: OpaResponse;
    try {
      body = JSON.parse(text) as OpaResponse;
    } catch {
      throw new FalconerError(
        'POLICY_RESULT_INVALID',
        `OPA server at ${where} answered something that is not JSON`,
      );
    }
    const revisions = Object.values(body.provenance?.bundles ?? {})
      .map((b) => b.revision ?? '')
      .filter((r) => r.length > 0);
    const revision =
      revisions.length > 0 ? revisions.join(',') : `opa-server@${body.provenance?.version ?? 'unknown'}`;
    return toDecision(body.result, checked, revision, `OPA server at ${where}`);
  }

  async close(): Promise<void> {}
}
