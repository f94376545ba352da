/** The coordinator's skill for the MCP tool server (caller `mcp` only): one incident, read-only. */
import { defineSkill } from '../../a2a/skill.ts';
import { IncidentGetInput, IncidentGetOutput } from '../../agents/contracts.ts';
import type { Db } from '../../agents/coordinator/incident-repo.ts';
import { readIncidentDetail } from '../queries/incident.ts';

export function incidentGetSkill(db: Db) {
  return defineSkill({
    id: 'incident.get',
    name: 'Incident',
    description: 'One incident with its timeline, signals, analysis and proposals',
    input: IncidentGetInput,
    output: IncidentGetOutput,
    handle: async (input) => ({ incident: await readIncidentDetail(db, input.id) }),
  });
}
