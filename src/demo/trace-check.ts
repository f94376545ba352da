/**
 * Follows each incident's trace id through the agents' log files (pino JSON
 * lines): it must appear in every agent the incident went through, and no
 * line about that incident may carry another trace id.
 */
export interface TraceCheckIncident {
  readonly id: string;
  readonly traceId: string;
  /** The agents that must have logged this trace. */
  readonly agents: readonly string[];
}

export interface TraceCheckResult {
  readonly missingIn: string[];
  readonly conflictingIn: string[];
}

export function checkTraces(
  logs: ReadonlyMap<string, string>,
  incidents: readonly TraceCheckIncident[],
): Map<string, TraceCheckResult> {
  // Per agent: trace ids seen, and incident id → trace ids seen on lines naming that incident.
  const seen = new Map<string, { traces: Set<string>; byIncident: Map<string, Set<string>> }>();
  for (const [agent, text] of logs) {
    const traces = new Set<string>();
    const byIncident = new Map<string, Set<string>>();
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a partial last line while the agent is still writing
      }
      if (entry === null || typeof entry !== 'object') continue;
      const { traceId, incidentId } = entry as { traceId?: unknown; incidentId?: unknown };
      if (typeof traceId !== 'string') continue;
      traces.add(traceId);
      if (typeof incidentId === 'string') {
        let set = byIncident.get(incidentId);
        if (!set) byIncident.set(incidentId, (set = new Set()));
        set.add(traceId);
      }
    }
    seen.set(agent, { traces, byIncident });
  }
  const results = new Map<string, TraceCheckResult>();
  for (const incident of incidents) {
    const missingIn = incident.agents.filter((a) => !seen.get(a)?.traces.has(incident.traceId));
    const conflictingIn = [...seen.entries()]
      .filter(([, s]) => [...(s.byIncident.get(incident.id) ?? [])].some((t) => t !== incident.traceId))
      .map(([agent]) => agent);
    results.set(incident.id, { missingIn, conflictingIn });
  }
  return results;
}
