/**
 * One interface for the two ways of evaluating the remediation policy
 * (embedded Wasm, OPA server), and the shared checks of what comes back:
 * a result that is not exactly a decision is an error, never an allow.
 */
import { z } from 'zod';
import type { PolicyDecision } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import { PolicyInput, inputDigest } from './input.ts';

export interface PolicyEvaluator {
  readonly name: string;
  /** Evaluates one input; throws a FalconerError (POLICY_*) when it cannot decide. */
  evaluate(input: PolicyInput): Promise<PolicyDecision>;
  close(): Promise<void>;
}

const RawDecision = z.strictObject({
  allowed: z.boolean(),
  requiresApproval: z.boolean(),
  approvalsRequired: z.number().int().min(0).max(5),
  reasons: z.array(z.string()).max(20),
});

export function checkedInput(input: unknown): PolicyInput {
  const parsed = PolicyInput.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`).join('; ');
    throw new FalconerError('POLICY_INPUT_INVALID', `malformed policy input: ${issues.slice(0, 400)}`);
  }
  return parsed.data;
}

/** Validates the policy's raw result and adds the revision and input digest. */
export function toDecision(
  raw: unknown,
  input: PolicyInput,
  bundleRevision: string,
  source: string,
): PolicyDecision {
  const parsed = RawDecision.safeParse(raw);
  if (!parsed.success) {
    throw new FalconerError(
      'POLICY_RESULT_INVALID',
      `${source} returned no valid decision (is the entrypoint falconer/remediation/decision loaded?)`,
      {
        source,
      },
    );
  }
  const d = parsed.data;
  if (!d.allowed && (d.requiresApproval || d.reasons.length === 0)) {
    throw new FalconerError('POLICY_RESULT_INVALID', `${source} returned an inconsistent decision`, {
      source,
    });
  }
  return {
    allowed: d.allowed,
    requiresApproval: d.requiresApproval,
    approvalsRequired: d.approvalsRequired,
    reasons: d.reasons.map((r) => (r.length > 500 ? `${r.slice(0, 499)}…` : r)),
    bundleRevision: bundleRevision.slice(0, 100),
    inputDigest: inputDigest(input),
  };
}
