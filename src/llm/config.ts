/**
 * The `llm` config block. No `provider` → the analyse agent uses the offline analyst.
 * The API key is never in the file: name an env var or a secret file.
 */
import { z } from 'zod';

export const LlmProviderKind = z.enum(['openai', 'azure-openai', 'anthropic']);
export type LlmProviderKind = z.infer<typeof LlmProviderKind>;

export const LlmProviderConfigSchema = z
  .object({
    /** openai covers every OpenAI-compatible server (vLLM, Ollama, llama.cpp server, LiteLLM). */
    kind: LlmProviderKind,
    /** e.g. https://api.openai.com/v1, http://127.0.0.1:11434/v1, https://<res>.openai.azure.com/openai/deployments/<dep>, https://api.anthropic.com */
    baseUrl: z.url({ protocol: /^https?$/ }),
    model: z.string().min(1).max(200),
    /** Name of the env var holding the key (e.g. OPENAI_API_KEY). */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
    /** Path of a file holding the key (e.g. a mounted Kubernetes secret); trailing whitespace is trimmed. */
    apiKeyFile: z.string().min(1).optional(),
    /** Azure OpenAI only. */
    apiVersion: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().max(600_000).default(60_000),
    maxRetries: z.number().int().min(0).max(10).default(3),
    backoff: z
      .object({
        baseMs: z.number().int().positive().default(500),
        maxMs: z.number().int().positive().default(20_000),
      })
      .prefault({}),
    budgets: z
      .object({
        /** 0 = unlimited. */
        callsPerMinute: z.number().int().min(0).default(60),
        /** 0 = unlimited. */
        tokensPerDay: z.number().int().min(0).default(2_000_000),
      })
      .prefault({}),
    breaker: z
      .object({
        failureThreshold: z.number().int().positive().default(5),
        cooldownMs: z.number().int().positive().default(30_000),
      })
      .prefault({}),
  })
  .refine((c) => !(c.apiKeyEnv && c.apiKeyFile), { message: 'set apiKeyEnv or apiKeyFile, not both' })
  .refine((c) => c.kind !== 'azure-openai' || c.apiVersion !== undefined, {
    message: 'azure-openai needs apiVersion (e.g. 2024-10-21)',
    path: ['apiVersion'],
  });

export const LlmConfigSchema = z
  .object({
    /** Absent: no LLM, offline analyst only. */
    provider: LlmProviderConfigSchema.optional(),
  })
  .prefault({});

export type LlmProviderConfig = z.infer<typeof LlmProviderConfigSchema>;
export type LlmConfig = z.infer<typeof LlmConfigSchema>;
