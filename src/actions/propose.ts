/**
 * From an incident and its analysis to concrete proposals: the analysis'
 * recommended kinds, filtered through the catalogue, each rendered to the
 * exact objects it would apply. An LLM can only pick kinds from the
 * catalogue; targets come from the incident's workload, never from free text.
 */
import { createHash } from 'node:crypto';
import type {
  ActionKind,
  ActionProposal,
  ActionTarget,
  AnalysisResult,
  IncidentSummary,
} from '../agents/contracts.ts';
import { describeError } from '../errors.ts';
import { getAction, isKnownAction, parseParams } from './registry.ts';
import type { Action } from './types.ts';

export interface ProposeOptions {
  /** The pod's owner (from resolvePodOwner), needed for scale-owner-to-zero. */
  owner?: { kind: string; name: string; replicas: number };
  /** Proposal time; rendered timestamps derive from it. Default: now. */
  nowMs?: number;
  /** Dry-run is the default; only an operator's config turns it off. */
  dryRun?: boolean;
  isolationEngine?: 'cilium' | 'kubernetes';
}

export interface SkippedAction {
  kind: string;
  reason: string;
}

export interface ActionPlan {
  proposals: ActionProposal[];
  skipped: SkippedAction[];
}

export function proposalId(incidentId: string, kind: ActionKind, target: ActionTarget): string {
  const h = createHash('sha256')
    .update(JSON.stringify([incidentId, kind, target]))
    .digest('hex');
  return `act-${h.slice(0, 24)}`;
}

function targetOf(incident: IncidentSummary, options: ProposeOptions): ActionTarget | undefined {
  const w = incident.workload;
  if (w.namespace === undefined || w.namespace.length === 0) return undefined;
  const target: ActionTarget = { namespace: w.namespace };
  if (w.pod !== undefined) target.pod = w.pod;
  if (w.image !== undefined) target.image = w.image;
  if (options.owner !== undefined) {
    target.ownerKind = options.owner.kind;
    target.ownerName = options.owner.name;
  }
  return target;
}

function paramsFor(
  kind: ActionKind,
  incident: IncidentSummary,
  analysis: AnalysisResult,
  at: number,
  options: ProposeOptions,
): Record<string, unknown> {
  const common = { incidentId: incident.id, at };
  switch (kind) {
    case 'label-pod':
      return { ...common, status: analysis.verdict === 'true_positive' ? 'compromised' : 'suspicious' };
    case 'annotate-pod':
      return { ...common, severity: analysis.severity, note: analysis.explanation.slice(0, 1024) };
    case 'isolate-pod':
      return { ...common, engine: options.isolationEngine ?? 'cilium' };
    case 'scale-owner-to-zero':
      return { ...common, replicas: options.owner?.replicas ?? 0 };
    case 'emit-event': {
      const techniques = analysis.techniques.map((t) => t.id).join(', ');
      const message =
        `Falconer incident ${incident.id}: ${analysis.severity} severity, verdict ${analysis.verdict}` +
        (techniques ? `; techniques ${techniques}` : '');
      return { ...common, reason: 'SecurityIncident', message };
    }
    case 'delete-pod':
    case 'block-image':
      return common;
  }
}

function missingNeed(action: Action, target: ActionTarget): string | undefined {
  for (const need of action.needs) {
    if (need === 'pod' && target.pod === undefined) return 'the incident names no pod';
    if (need === 'image' && target.image === undefined) return 'the incident names no image';
    if (need === 'owner' && (target.ownerKind === undefined || target.ownerName === undefined)) {
      return "the pod's owner is unknown (resolve it with resolvePodOwner first)";
    }
  }
  return undefined;
}

export function planActions(
  incident: IncidentSummary,
  analysis: AnalysisResult,
  options: ProposeOptions = {},
): ActionPlan {
  const proposals: ActionProposal[] = [];
  const skipped: SkippedAction[] = [];
  if (analysis.verdict === 'false_positive') {
    for (const kind of analysis.recommendedActions)
      skipped.push({ kind, reason: 'verdict is false_positive' });
    return { proposals, skipped };
  }
  const target = targetOf(incident, options);
  const at = options.nowMs ?? Date.now();
  const seen = new Set<string>();
  for (const kind of analysis.recommendedActions) {
    if (seen.has(kind)) continue;
    seen.add(kind);
    if (!isKnownAction(kind)) {
      skipped.push({ kind: String(kind).slice(0, 64), reason: 'not in the action catalogue' });
      continue;
    }
    if (target === undefined) {
      skipped.push({ kind, reason: 'the incident names no namespace' });
      continue;
    }
    const action = getAction(kind);
    const missing = missingNeed(action, target);
    if (missing !== undefined) {
      skipped.push({ kind, reason: missing });
      continue;
    }
    try {
      const params = parseParams(action, paramsFor(kind, incident, analysis, at, options));
      const manifests = action.render(target, params).map((op) => op.object);
      proposals.push({
        id: proposalId(incident.id, kind, target),
        kind,
        target,
        params: { ...params },
        manifests,
        dryRun: options.dryRun ?? true,
      });
    } catch (err) {
      // An invalid target (a pod name no API server would accept) is skipped, with why.
      skipped.push({ kind, reason: describeError(err) });
    }
  }
  return { proposals, skipped };
}

/** The remediate agent's `actions.propose`: proposals only (planActions also says what was skipped). */
export function proposeActions(
  incident: IncidentSummary,
  analysis: AnalysisResult,
  options: ProposeOptions = {},
): ActionProposal[] {
  return planActions(incident, analysis, options).proposals;
}
