/**
 * Late signals, pure: what a signal that arrives after an incident's analysis
 * changes. A signal that tells the analysis something new (a new signal, a new
 * rule, a more urgent priority) requests a re-analysis of an incident still
 * waiting for a decision; requests are coalesced and rate-limited per
 * incident. A signal for a workload whose incident is already closed opens a
 * follow-up incident linked to it. After a re-analysis, a proposal whose
 * action is unchanged keeps its approvals; a changed one is proposed again.
 *
 * Everything is derived from persisted rows (the timeline), so a restarted
 * coordinator decides the same.
 */
import type { ActionProposal } from '../contracts.ts';
export { isNovel, type SignalDigest } from '../signal-novelty.ts';
import type { TimelineEntry } from './incident-repo.ts';
import type { IncidentStatus } from './state-machine.ts';

/** At most one re-analysis per incident this often; later signals wait and are analysed together. */
export const DEFAULT_REANALYSIS_INTERVAL_MS = 30_000;
/**
 * The first re-analysis may follow the analysis sooner (a new stage of an attack is worth a prompt
 * look); this short wait still coalesces a burst of late signals into one re-analysis.
 */
export const DEFAULT_FIRST_REANALYSIS_DELAY_MS = 2_000;

/** Statuses in which a late signal requests a re-analysis (analysing: the running one may not have seen it). */
export const REANALYSABLE_STATUSES: readonly IncidentStatus[] = [
  'analysing',
  'proposed',
  'awaiting_approval',
];

/** The timeline detail that marks a request (`reanalysis: 'requested'`) or a follow-up link. */
export interface LateSignalDetail {
  reanalysis?: 'requested' | 'started';
  signalId?: string;
  followsIncidentId?: string;
  followUpIncidentId?: string;
}

function detailOf(entry: TimelineEntry): LateSignalDetail {
  const d = entry.detail;
  return typeof d === 'object' && d !== null ? (d as LateSignalDetail) : {};
}

/** A real move into analysing (not a note recorded while analysing), or an analysis started again at once. */
function startsAnalysis(entry: TimelineEntry): boolean {
  return entry.to === 'analysing' && (entry.from !== 'analysing' || detailOf(entry).reanalysis === 'started');
}

export interface AnalysisRounds {
  /** Analyses started so far (1 after the first). */
  readonly round: number;
  readonly lastStartedAt: number | undefined;
  /** Signals that requested a re-analysis after the last one started. */
  readonly requestedBy: readonly string[];
}

export function analysisRounds(timeline: readonly TimelineEntry[]): AnalysisRounds {
  let round = 0;
  let lastStartedAt: number | undefined;
  let requestedBy: string[] = [];
  for (const entry of timeline) {
    if (startsAnalysis(entry)) {
      round += 1;
      lastStartedAt = entry.at;
      requestedBy = [];
      continue;
    }
    const detail = detailOf(entry);
    if (round > 0 && detail.reanalysis === 'requested') requestedBy.push(detail.signalId ?? '?');
  }
  return { round, lastStartedAt, requestedBy: [...new Set(requestedBy)] };
}

export type ReanalysisDecision = { kind: 'none' } | { kind: 'now' } | { kind: 'later'; inMs: number };

export function reanalysisDecision(
  rounds: AnalysisRounds,
  status: IncidentStatus,
  now: number,
  minIntervalMs: number,
  firstDelayMs: number = minIntervalMs,
): ReanalysisDecision {
  if (rounds.requestedBy.length === 0 || (status !== 'proposed' && status !== 'awaiting_approval'))
    return { kind: 'none' };
  // Round 1 is the first analysis: the first re-analysis waits firstDelayMs, later ones minIntervalMs.
  const wait = rounds.round <= 1 ? Math.min(firstDelayMs, minIntervalMs) : minIntervalMs;
  const since = rounds.lastStartedAt === undefined ? Infinity : now - rounds.lastStartedAt;
  return since >= wait ? { kind: 'now' } : { kind: 'later', inMs: wait - since };
}

/** Per-round message ids and dedupe keys: round 1 keeps the names incidents always had. */
export function roundSuffix(round: number): string {
  return round <= 1 ? '' : `:${round}`;
}

export interface ClosedIncidentRef {
  readonly id: string;
  readonly lastSignalAtMs: number;
}

/** The most recent closed incident of the workload whose last signal is within the window of this one. */
export function followUpOf(
  signalAtMs: number,
  closed: readonly ClosedIncidentRef[],
  windowMs: number,
): string | undefined {
  let best: ClosedIncidentRef | undefined;
  for (const c of closed) {
    if (Math.abs(signalAtMs - c.lastSignalAtMs) > windowMs) continue;
    if (!best || c.lastSignalAtMs > best.lastSignalAtMs) best = c;
  }
  return best?.id;
}

/**
 * What an approver approved: the kind, the target, the parameters (but the
 * proposal's own timestamp, which the rendered manifests derive names from),
 * dry-run, and the policy's verdict on it. The manifests follow from these.
 */
function actionKey(p: ActionProposal): string {
  const { at: _at, ...params } = p.params;
  const d = p.decision;
  return JSON.stringify(
    sortKeys({
      kind: p.kind,
      target: p.target,
      params,
      dryRun: p.dryRun,
      decision: d
        ? { allowed: d.allowed, requiresApproval: d.requiresApproval, approvalsRequired: d.approvalsRequired }
        : null,
    }),
  );
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

export interface ProposalDiff {
  /** Every new proposal has an identical action among the old ones (and vice versa). */
  readonly unchanged: boolean;
  /** Old proposals whose action changed or disappeared: their approvals no longer stand. */
  readonly invalidated: readonly string[];
}

export function diffProposals(old: readonly ActionProposal[], next: readonly ActionProposal[]): ProposalDiff {
  const nextById = new Map(next.map((p) => [p.id, actionKey(p)]));
  const oldById = new Map(old.map((p) => [p.id, actionKey(p)]));
  const invalidated = old.filter((p) => nextById.get(p.id) !== oldById.get(p.id)).map((p) => p.id);
  const added = next.some((p) => !oldById.has(p.id));
  return { unchanged: invalidated.length === 0 && !added, invalidated };
}
