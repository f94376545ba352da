/**
 * The AgentPrompt resource in zod, mirroring the CRD's openAPI schema
 * (deploy/helm/falconer/files/crds/falconer.dev_agentprompts.yaml), plus the
 * size limit of the whole spec that openAPI cannot express. Unknown spec
 * fields are refused (the API server would prune them silently; a folder
 * typo such as `template:` must not be).
 */
import { z } from 'zod';
import { OUTPUT_SCHEMA_REFS } from './types.ts';

export const AGENTPROMPT_API_VERSION = 'falconer.dev/v1alpha1';
export const AGENTPROMPT_KIND = 'AgentPrompt';
export const PROMPT_AGENTS = ['detect', 'coordinator', 'analyse', 'remediate', 'notify'] as const;

export const PROMPT_LIMITS = {
  /** One system prompt or template, in characters (the CRD's maxLength). */
  textChars: 65_536,
  templates: 16,
  variables: 64,
  /** The canonical JSON of the whole spec, in bytes. */
  specBytes: 262_144,
  /** One YAML file of the folder source, in bytes. */
  fileBytes: 1_048_576,
} as const;

export const VARIABLE_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PROMPT_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
const TEMPLATE_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;
const SEMVER = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
/** metadata.name of a namespaced object: a DNS subdomain. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const text = z.string().min(1, 'must not be empty').max(PROMPT_LIMITS.textChars);

export const PromptModelSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  maxTokens: z.number().int().min(1).max(1_000_000).optional(),
  responseFormat: z.enum(['text', 'json']).optional(),
});

export const AgentPromptSpecSchema = z.strictObject({
  agent: z.enum(PROMPT_AGENTS, { error: `must be one of ${PROMPT_AGENTS.join(', ')}` }),
  name: z.string().regex(PROMPT_NAME, 'must be lowercase letters, digits, dots and dashes (max 63)'),
  version: z.string().max(64).regex(SEMVER, 'must be a semantic version such as 1.2.0 or 1.2.0-rc.1'),
  description: z.string().max(1024).optional(),
  system: text,
  templates: z
    .record(z.string().regex(TEMPLATE_NAME, 'template names are identifiers such as user'), text)
    .refine((t) => Object.keys(t).length <= PROMPT_LIMITS.templates, {
      message: `at most ${PROMPT_LIMITS.templates} templates`,
    })
    .optional(),
  variables: z
    .array(z.string().max(64).regex(VARIABLE_NAME, 'variable names are identifiers such as events'))
    .max(PROMPT_LIMITS.variables)
    .refine((v) => new Set(v).size === v.length, { message: 'variables must not repeat' })
    .optional(),
  model: PromptModelSchema.optional(),
  outputSchema: z
    .enum(OUTPUT_SCHEMA_REFS, { error: `must be one of ${OUTPUT_SCHEMA_REFS.join(', ')}` })
    .optional(),
});
export type AgentPromptSpec = z.infer<typeof AgentPromptSpecSchema>;

export const AgentPromptObjectSchema = z.looseObject({
  apiVersion: z.literal(AGENTPROMPT_API_VERSION, { error: `must be ${AGENTPROMPT_API_VERSION}` }),
  kind: z.literal(AGENTPROMPT_KIND, { error: `must be ${AGENTPROMPT_KIND}` }),
  metadata: z.looseObject({
    name: z.string().max(253).regex(OBJECT_NAME, 'must be a DNS subdomain name (lowercase)'),
    namespace: z.string().optional(),
    generation: z.number().int().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: AgentPromptSpecSchema,
});
export type AgentPromptObject = z.infer<typeof AgentPromptObjectSchema>;
