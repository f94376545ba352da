/**
 * What the model must answer (`falconer.dev/analysis/v1`): a zod schema for
 * validation and the JSON schema sent as the provider's structured output.
 * Actions are plain strings here on purpose: one outside the catalogue must
 * be reported to the model precisely (repair round), not as a vague schema
 * mismatch; the JSON schema still enumerates the catalogue for the provider.
 */
import { z } from 'zod';
import { ActionKind } from '../../contracts.ts';

export const ANALYSIS_SCHEMA_REF = 'falconer.dev/analysis/v1';
/** Name of the structured-output schema (also the Anthropic answer tool): must match ^[a-zA-Z0-9_-]{1,64}$. */
export const ANALYSIS_SCHEMA_NAME = 'falconer_analysis';

export const LlmAnalysis = z.strictObject({
  verdict: z.enum(['true_positive', 'false_positive', 'needs_review']),
  confidence: z.number().min(0).max(1),
  severity: z.enum(['low', 'medium', 'high', 'critical']),
  techniques: z.array(z.string().max(20)).max(20),
  explanation: z.string().min(1).max(8000),
  citedEventIds: z.array(z.string().min(1).max(200)).max(100),
  recommendedActions: z.array(z.string().max(64)).max(10),
  proposedRule: z.string().max(20_000).nullable().optional(),
});
export type LlmAnalysis = z.infer<typeof LlmAnalysis>;

/**
 * Strict-mode compatible (OpenAI json_schema strict: every property required, no extras, null = no rule;
 * only keywords strict mode accepts: bounds on lengths and numbers are enforced by LlmAnalysis instead).
 */
export const ANALYSIS_JSON_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'verdict',
    'confidence',
    'severity',
    'techniques',
    'explanation',
    'citedEventIds',
    'recommendedActions',
    'proposedRule',
  ],
  properties: {
    verdict: { type: 'string', enum: ['true_positive', 'false_positive', 'needs_review'] },
    confidence: { type: 'number', description: 'from 0 to 1' },
    severity: { type: 'string', enum: ['low', 'medium', 'high', 'critical'] },
    techniques: {
      type: 'array',
      items: { type: 'string', pattern: '^T\\d{4}(\\.\\d{3})?$' },
      maxItems: 20,
      description: 'MITRE ATT&CK technique ids supported by the events, e.g. T1059.004',
    },
    explanation: {
      type: 'string',
      description: 'What happened and why it matters, at most 8 sentences, citing event ids as [event <id>]',
    },
    citedEventIds: {
      type: 'array',
      items: { type: 'string' },
      maxItems: 100,
      description: 'Ids of the events (given or returned by tools) the explanation relies on',
    },
    recommendedActions: {
      type: 'array',
      items: { type: 'string', enum: [...ActionKind.options] },
      maxItems: 10,
      description: 'Response actions to propose; policy and a human decide, you never act',
    },
    proposedRule: {
      type: ['string', 'null'],
      description: 'A self-contained Falco rule (YAML) catching this behaviour, or null',
    },
  },
};
