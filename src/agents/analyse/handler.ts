/**
 * The `incident.analyse` skill's handler, independent of how the agent exposes
 * skills: validate the input against the wire contract, analyse, and validate
 * the result too (a bug here must surface as an error, not as a malformed reply).
 * The LLM analyst, when configured, plugs in before this fallback.
 */
import { FalconerError } from '../../errors.ts';
import { AnalyseInput, AnalysisResult } from '../contracts.ts';
import './errors.ts';
import { analyseOffline } from './offline.ts';

export function handleAnalyse(input: unknown): AnalysisResult {
  const parsed = AnalyseInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined ? '' : issue.path.join('.');
    throw new FalconerError(
      'ANALYSE_INPUT_INVALID',
      `incident.analyse input invalid at ${path || '(root)'}: ${issue?.message ?? 'unknown'}`,
      {
        path,
      },
    );
  }
  return AnalysisResult.parse(analyseOffline(parsed.data));
}
