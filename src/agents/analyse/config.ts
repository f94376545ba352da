/**
 * The `analyse` config block (wired into the global schema as `analyse`):
 * where the MCP tools and prompts are, and the limits of the LLM tool loop.
 * Used only when `llm.provider` is set.
 */
import { z } from 'zod';

export const AnalyseMcpConfigSchema = z
  .strictObject({
    /** Streamable HTTP endpoint of `falconer mcp`, e.g. http://127.0.0.1:7700/mcp */
    url: z.url({ protocol: /^https?$/ }),
    /** File holding the bearer token (a mounted secret); trailing whitespace is trimmed. */
    tokenFile: z.string().min(1).optional(),
    /** Env var holding the bearer token. */
    tokenEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional(),
  })
  .refine((c) => !(c.tokenFile && c.tokenEnv), { message: 'set tokenFile or tokenEnv, not both' });

export const AnalyseConfigSchema = z
  .strictObject({
    /** Absent: the analyst works single-shot, without tools. */
    mcp: AnalyseMcpConfigSchema.optional(),
    prompts: z
      .strictObject({
        /** Folder of AgentPrompt YAML files; absent: the prompt loader's default (the global `prompts` block). */
        dir: z.string().min(1).optional(),
        /** Name of the analysis prompt (spec.name) for agent `analyse`. */
        name: z.string().min(1).default('incident-analysis'),
      })
      .prefault({}),
    /** Model turns that may call tools before it must answer. */
    maxToolRounds: z.number().int().min(0).max(20).default(6),
    /** Tool calls in one analysis, all rounds together. */
    maxToolCalls: z.number().int().min(0).max(100).default(16),
    /** Input + output tokens of one analysis, all calls together. */
    maxTotalTokens: z.number().int().positive().default(80_000),
    /** Wall time of one analysis; past it the offline analyst answers. */
    timeoutMs: z.number().int().positive().max(600_000).default(120_000),
    /**
     * With MCP tools: LLM rounds that repair a proposed rule the backtest rejects (misses incident
     * events, fires on more than 0.1 % of the others, or does not parse). 0: the rule is still
     * scored, and dropped when it fails (detect then synthesizes one offline).
     */
    maxRuleRepairRounds: z.number().int().min(0).max(5).default(2),
  })
  .prefault({});

export type AnalyseConfig = z.infer<typeof AnalyseConfigSchema>;
export type AnalyseMcpConfig = z.infer<typeof AnalyseMcpConfigSchema>;
