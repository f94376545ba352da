/**
 * `falconer demo --json`'s report: joins what the demo knows (the scenario's
 * attack labels, when each attack's first event was sent) with what the
 * platform did (incidents from the coordinator's API, counters from the
 * agents' metrics, trace ids in the agents' logs). Pure: the driver gathers
 * the inputs over HTTP and from files.
 */
export interface AttackRecord {
  readonly attackId: string;
  readonly kind: string;
  readonly technique: string;
  readonly eventIds: ReadonlySet<string>;
  /** Wall-clock time its first event was handed to the ingest. */
  readonly firstSentMs: number | null;
}

export interface IncidentView {
  readonly id: string;
  readonly status: string;
  readonly createdAtMs: number;
  readonly traceId: string;
  readonly eventIds: readonly string[];
  readonly proposals: number;
  readonly verdict: string | null;
}

export interface AttackResult {
  readonly kind: string;
  readonly technique: string;
  readonly detected: boolean;
  readonly incidentId: string | null;
  readonly msToIncident: number | null;
}

export interface PlatformReport {
  readonly events: number;
  readonly rejected: number;
  readonly forwarded: number;
  readonly signals: number;
  readonly incidents: number;
  readonly attacks: AttackResult[];
  readonly falsePositiveIncidents: number;
  readonly actionsProposed: number;
  readonly notifications: number;
  readonly traceIdsConsistent: boolean;
  /** Why the run counts as failed (empty when it did not). */
  readonly failures: string[];
}

export interface ReportInputs {
  readonly events: number;
  readonly rejected: number;
  readonly forwarded: number;
  readonly signals: number;
  readonly attacks: readonly AttackRecord[];
  readonly incidents: readonly IncidentView[];
  readonly notifications: number;
  /** Per incident id: the agents whose logs carry its trace id, and those that logged it with another one. */
  readonly traceCheck: ReadonlyMap<string, { missingIn: string[]; conflictingIn: string[] }>;
  /** Agents that crashed or never became ready during the run. */
  readonly agentFailures: readonly string[];
}

export function buildPlatformReport(inputs: ReportInputs): PlatformReport {
  const incidentsByEvent = new Map<string, IncidentView>();
  for (const incident of inputs.incidents) {
    for (const id of incident.eventIds) if (!incidentsByEvent.has(id)) incidentsByEvent.set(id, incident);
  }
  const attackEventIds = new Set<string>();
  const attacks = inputs.attacks.map((attack): AttackResult => {
    let first: IncidentView | null = null;
    for (const id of attack.eventIds) {
      attackEventIds.add(id);
      const incident = incidentsByEvent.get(id);
      if (incident && (first === null || incident.createdAtMs < first.createdAtMs)) first = incident;
    }
    return {
      kind: attack.kind,
      technique: attack.technique,
      detected: first !== null,
      incidentId: first?.id ?? null,
      msToIncident:
        first === null || attack.firstSentMs === null
          ? null
          : Math.max(0, first.createdAtMs - attack.firstSentMs),
    };
  });
  const falsePositiveIncidents = inputs.incidents.filter(
    (incident) => !incident.eventIds.some((id) => attackEventIds.has(id)),
  ).length;
  let traceIdsConsistent = inputs.incidents.length > 0;
  const failures = [...inputs.agentFailures];
  for (const [incidentId, check] of inputs.traceCheck) {
    if (check.missingIn.length > 0 || check.conflictingIn.length > 0) {
      traceIdsConsistent = false;
      failures.push(
        `incident ${incidentId}: trace id missing in ${check.missingIn.join(', ') || '-'}, ` +
          `conflicting in ${check.conflictingIn.join(', ') || '-'}`,
      );
    }
  }
  if (inputs.incidents.length === 0) failures.push('no incident was opened');
  return {
    events: inputs.events,
    rejected: inputs.rejected,
    forwarded: inputs.forwarded,
    signals: inputs.signals,
    incidents: inputs.incidents.length,
    attacks,
    falsePositiveIncidents,
    actionsProposed: inputs.incidents.reduce((n, i) => n + i.proposals, 0),
    notifications: inputs.notifications,
    traceIdsConsistent,
    failures,
  };
}
