/**
 * The analyse agent: answers `incident.analyse` for the coordinator. Offline
 * analyst today (deterministic, labelled `analyst: 'offline'`); the LLM
 * analyst plugs in in front of it.
 */
import { defineSkill } from '../../a2a/skill.ts';
import { AnalyseInput, AnalysisResult } from '../contracts.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';
import { handleAnalyse } from './handler.ts';

export async function createAnalyseAgent(_ctx: AgentContext): Promise<AgentParts> {
  const analyse = defineSkill({
    id: 'incident.analyse',
    name: 'Incident analysis',
    description:
      'Verdict, severity, ATT&CK techniques and an explanation citing event ids, with recommended actions from the catalogue',
    input: AnalyseInput,
    output: AnalysisResult,
    handle: async (input, skillCtx) => {
      const result = handleAnalyse(input);
      skillCtx.logger.info(
        {
          incidentId: input.incident.id,
          verdict: result.verdict,
          severity: result.severity,
          techniques: result.techniques.map((t) => t.id),
          analyst: result.analyst,
        },
        'incident analysed',
      );
      return result;
    },
  });
  return {
    description: 'Investigates incidents: verdict, severity, ATT&CK techniques, explanation, proposed rule',
    skills: [analyse],
    ready: () => true,
    close: async () => {},
  };
}
