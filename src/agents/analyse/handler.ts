/**
 * The `incident.analyse` skill's handler, independent of how the agent exposes
 * skills: validate the input against the wire contract, analyse, and validate
 * the result too (a bug here must surface as an error, not as a malformed reply).
 * With an LLM analyst configured it answers first; it falls back to the
 * offline analyst itself (flagged with degradedReason).
 */
import { FalconerError } from '../../errors.ts';
import { AnalyseInput, AnalysisResult } from '../contracts.ts';
import './errors.ts';
import type { LlmAnalyst } from './llm/analyst.ts';
import { analyseOffline } from './offline.ts';

function parseInput(input: unknown): AnalyseInput {
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
  return parsed.data;
}

export function handleAnalyse(input: unknown): AnalysisResult {
  return AnalysisResult.parse(analyseOffline(parseInput(input)));
}

/** The skill's handler when an LLM analyst may be configured. */
export async function handleAnalyseWith(
  input: unknown,
  analyst: LlmAnalyst | undefined,
  opts: { traceId?: string; signal?: AbortSignal } = {},
): Promise<AnalysisResult> {
  const parsed = parseInput(input);
  if (analyst === undefined) return AnalysisResult.parse(analyseOffline(parsed));
  const { result } = await analyst.analyse(parsed, opts);
  return AnalysisResult.parse(result);
}
