/**
 * The prompt the LLM analyst uses when no AgentPrompt `analyse/incident-analysis`
 * is loaded (and in tests and benchmarks). Same shape as a loaded resource:
 * `system` + `templates.user` with {{incident}}, {{workload}}, {{events}}.
 * The analyst always appends its own untrusted-data notice and output rules,
 * whatever prompt is loaded.
 */
import { createHash } from 'node:crypto';
import type { LoadedPrompt, PromptSource } from '../../../prompts/types.ts';
import { ANALYSIS_SCHEMA_REF } from './schema.ts';

const SYSTEM = `You are a security analyst in a Kubernetes SOC. You investigate one incident:
Falco alerts on one workload that an anomaly detector found unusual.
Use the tools (when offered) to query more events, baselines or workload context when the
evidence is thin; they only answer about this incident's workload. Then give your verdict.`;

const USER = `Incident:
{{incident}}

Workload:
{{workload}}

Events (most severe first):
{{events}}`;

function hashOf(spec: unknown): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex');
}

export const BUILTIN_ANALYSIS_PROMPT: LoadedPrompt = {
  agent: 'analyse',
  name: 'incident-analysis',
  version: 'builtin-1',
  hash: hashOf({ system: SYSTEM, user: USER }),
  description: 'Built-in threat analysis prompt (used when no AgentPrompt is loaded).',
  system: SYSTEM,
  templates: { user: USER },
  variables: ['incident', 'workload', 'events'],
  model: { temperature: 0.1, maxTokens: 2048, responseFormat: 'json' },
  outputSchema: ANALYSIS_SCHEMA_REF,
  origin: 'builtin',
};

/** A fixed set of prompts as a PromptSource (tests, benchmarks, and the fallback when no loader is wired). */
export function staticPromptSource(
  prompts: readonly LoadedPrompt[] = [BUILTIN_ANALYSIS_PROMPT],
): PromptSource {
  return {
    get: (agent, name) => prompts.find((p) => p.agent === agent && p.name === name),
    list: () => [...prompts],
    close: async () => {},
  };
}
