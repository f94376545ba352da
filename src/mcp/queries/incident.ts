/**
 * `incident.get`: one incident with its timeline, signals, analysis and
 * proposals, read from the coordinator's database (the coordinator's skill
 * and the in-process backend share it). Proposals carry the number of their
 * manifests, not the manifests: the tool is for reading, not applying.
 */
import type { IncidentDetail } from '../../agents/contracts.ts';
import {
  findIncident,
  incidentHeader,
  loadReports,
  readTimeline,
  type Db,
} from '../../agents/coordinator/incident-repo.ts';

const MAX_TIMELINE = 200;
const MAX_SIGNALS = 100;

export async function readIncidentDetail(db: Db, id: string): Promise<IncidentDetail | null> {
  const incident = await findIncident(db, id);
  if (incident === undefined) return null;
  const [reports, timeline] = await Promise.all([loadReports(db, id), readTimeline(db, id)]);
  return {
    ...incidentHeader(incident),
    ...(incident.reason !== undefined ? { reason: incident.reason.slice(0, 2000) } : {}),
    ...(incident.verdict !== undefined ? { verdict: incident.verdict } : {}),
    timeline: timeline.slice(-MAX_TIMELINE).map((t) => ({
      seq: t.seq,
      from: t.from,
      to: t.to,
      at: t.at,
      actor: t.actor.slice(0, 200),
      reason: t.reason.slice(0, 2000),
    })),
    signals: reports.slice(-MAX_SIGNALS).map((r) => r.signal),
    analysis: incident.analysis ?? null,
    proposals: (incident.proposals ?? []).map(({ manifests, ...p }) => ({
      ...p,
      manifests: manifests.length,
    })),
  };
}
