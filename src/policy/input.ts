/**
 * The policy input, version 1 (docs/policy-input.md). buildPolicyInput is
 * pure: the same proposal, incident, analysis and history always give the
 * same input and so the same digest. Only trusted facts go in: the action's
 * blast radius comes from the catalogue, severities and verdicts are enums,
 * and no free text from events reaches the policy.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ActionKind, Severity } from '../agents/contracts.ts';
import type { ActionProposal, AnalysisResult, IncidentSummary } from '../agents/contracts.ts';
import { getAction, parseParams } from '../actions/registry.ts';
import { canonicalJson } from '../actions/state.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';

export const POLICY_INPUT_VERSION = 1;

const name = z.string().min(1).max(253);
/** A namespace is a DNS-1123 label: nothing else can reach the policy's reason texts. */
const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
  .max(63);

export const PolicyInput = z.strictObject({
  inputVersion: z.literal(POLICY_INPUT_VERSION),
  action: z.strictObject({
    id: z.string().min(1).max(200),
    kind: ActionKind,
    /** Pods the action touches now; null for a cluster-scoped action (block-image). */
    podsAffected: z.number().int().min(0).max(100_000).nullable(),
    dryRun: z.boolean(),
  }),
  target: z.strictObject({
    namespace: namespaceName,
    pod: name.optional(),
    image: z.string().min(1).max(512).optional(),
    ownerKind: z.string().min(1).max(64).optional(),
    ownerName: name.optional(),
  }),
  incident: z.strictObject({
    id: z.string().min(1).max(200),
    /** The detection's severity (not the LLM's). */
    severity: Severity,
    traceId: z.string().regex(/^[0-9a-f]{32}$/),
  }),
  analysis: z.strictObject({
    verdict: z.enum(['true_positive', 'false_positive', 'needs_review']),
    confidence: z.number().min(0).max(1),
    severity: Severity,
    analyst: z.enum(['offline', 'llm']),
  }),
  history: z.strictObject({
    /** Isolations Falconer applied or has allowed in the last hour (the caller's ledger). */
    isolationsLastHour: z.number().int().min(0),
    actionsLastHour: z.number().int().min(0),
  }),
  context: z.strictObject({
    /** Falconer's own namespace: always protected. */
    falconerNamespace: namespaceName,
  }),
});
export type PolicyInput = z.infer<typeof PolicyInput>;

export interface PolicyHistory {
  isolationsLastHour: number;
  actionsLastHour: number;
  falconerNamespace: string;
}

/**
 * Builds the input. An unknown kind or params that do not parse throw
 * (ACTION_UNKNOWN / ACTION_INVALID_PARAMS): nothing is evaluated for them.
 */
export function buildPolicyInput(
  proposal: ActionProposal,
  incident: IncidentSummary,
  analysis: AnalysisResult,
  history: PolicyHistory,
): PolicyInput {
  const action = getAction(proposal.kind);
  const params = parseParams(action, proposal.params);
  const target: PolicyInput['target'] = { namespace: proposal.target.namespace };
  for (const k of ['pod', 'image', 'ownerKind', 'ownerName'] as const) {
    const v = proposal.target[k];
    if (v !== undefined) target[k] = v;
  }
  const parsed = PolicyInput.safeParse({
    inputVersion: POLICY_INPUT_VERSION,
    action: {
      id: proposal.id,
      kind: proposal.kind,
      podsAffected: action.podsAffected(proposal.target, params),
      dryRun: proposal.dryRun,
    },
    target,
    incident: { id: incident.id, severity: incident.severity, traceId: incident.traceId },
    analysis: {
      verdict: analysis.verdict,
      confidence: analysis.confidence,
      severity: analysis.severity,
      analyst: analysis.analyst,
    },
    history: { isolationsLastHour: history.isolationsLastHour, actionsLastHour: history.actionsLastHour },
    context: { falconerNamespace: history.falconerNamespace },
  });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '<root>'}: ${i.message}`).join('; ');
    throw new FalconerError('POLICY_INPUT_INVALID', `malformed policy input: ${issues.slice(0, 400)}`, {
      proposalId: proposal.id.slice(0, 200),
    });
  }
  return parsed.data;
}

/** sha256 of the canonical JSON (sorted keys, no whitespace) of the input. */
export function inputDigest(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}
