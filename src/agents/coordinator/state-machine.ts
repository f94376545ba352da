/**
 * The incident state machine, pure: the states, the one table of legal
 * transitions, workload grouping and severity. The engine persists; this
 * decides.
 *
 *   new → analysing → proposed → awaiting_approval → remediating → resolved
 *                              ↘──────────────────↗
 *   any open state → dismissed (false positive, nothing to do, rejected, expired)
 *   proposed | awaiting_approval → analysing (re-analysis: late signals joined it; see reanalysis.ts)
 *   analysing → analysing (an analysis that would dismiss, while signals it has not seen joined: again)
 */
import { FalconerError } from '../../errors.ts';
import type { Severity } from '../contracts.ts';
import './errors.ts';

export const INCIDENT_STATUSES = [
  'new',
  'analysing',
  'proposed',
  'awaiting_approval',
  'remediating',
  'resolved',
  'dismissed',
] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const OPEN_STATUSES: readonly IncidentStatus[] = [
  'new',
  'analysing',
  'proposed',
  'awaiting_approval',
  'remediating',
];
export const TERMINAL_STATUSES: readonly IncidentStatus[] = ['resolved', 'dismissed'];

export const TRANSITIONS: Readonly<Record<IncidentStatus, readonly IncidentStatus[]>> = {
  new: ['analysing', 'dismissed'],
  // Again rather than dismissed when signals joined while the analysis ran (it has not seen them).
  analysing: ['proposed', 'dismissed', 'analysing'],
  // No approval needed (policy allowed every proposal outright) goes straight to remediating.
  // Back to analysing when signals that the analysis has not seen join the incident before anyone acted.
  proposed: ['awaiting_approval', 'remediating', 'dismissed', 'analysing'],
  awaiting_approval: ['remediating', 'dismissed', 'analysing'],
  remediating: ['resolved', 'dismissed'],
  resolved: [],
  dismissed: [],
};

export function isIncidentStatus(value: string): value is IncidentStatus {
  return (INCIDENT_STATUSES as readonly string[]).includes(value);
}

export function isOpen(status: IncidentStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: IncidentStatus, to: IncidentStatus, incidentId?: string): void {
  if (!canTransition(from, to)) {
    throw new FalconerError('INCIDENT_ILLEGAL_TRANSITION', `an incident cannot go from ${from} to ${to}`, {
      from,
      to,
      ...(incidentId !== undefined ? { incidentId } : {}),
    });
  }
}

export interface OpenIncidentRef {
  id: string;
  workloadKey: string;
  status: IncidentStatus;
  lastSignalAtMs: number;
}

export type GroupingDecision = { kind: 'join'; incidentId: string } | { kind: 'open' };

/**
 * A signal for a workload joins that workload's open incident when the
 * incident's last signal is within the window; otherwise it opens a new one.
 * With several candidates, the most recent wins.
 */
export function groupSignal(
  signal: { workloadKey: string; atMs: number },
  candidates: readonly OpenIncidentRef[],
  windowMs: number,
): GroupingDecision {
  let best: OpenIncidentRef | undefined;
  for (const c of candidates) {
    if (c.workloadKey !== signal.workloadKey || !isOpen(c.status)) continue;
    if (Math.abs(signal.atMs - c.lastSignalAtMs) > windowMs) continue;
    if (!best || c.lastSignalAtMs > best.lastSignalAtMs) best = c;
  }
  return best ? { kind: 'join', incidentId: best.id } : { kind: 'open' };
}

const SEVERITY_ORDER: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Falco priority level (0 = Emergency … 7 = Debug) to severity. */
export function severityFromPriority(level: number): Severity {
  if (level <= 2) return 'critical'; // Emergency, Alert, Critical
  if (level === 3) return 'high'; // Error
  if (level === 4) return 'medium'; // Warning
  return 'low'; // Notice, Informational, Debug
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_ORDER.indexOf(a) >= SEVERITY_ORDER.indexOf(b) ? a : b;
}

/**
 * Severity after analysis: the analysis may raise it, never lower it below
 * what the signals' priority says — analysis reads attacker-controlled text,
 * so an attacker must not be able to talk an incident down.
 */
export function incidentSeverity(priorityLevel: number, analysed?: Severity): Severity {
  const base = severityFromPriority(priorityLevel);
  return analysed === undefined ? base : maxSeverity(base, analysed);
}
