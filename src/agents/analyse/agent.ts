/**
 * The analyse agent: answers `incident.analyse` for the coordinator. With
 * `llm.provider` configured, the LLM analyst (tools over MCP, prompts from
 * AgentPrompts) answers, falling back to the offline analyst (flagged);
 * without one, the deterministic offline analyst answers (`analyst: 'offline'`).
 */
import { defineSkill } from '../../a2a/skill.ts';
import { createLlmClient } from '../../llm/client.ts';
import type { ToolGateway } from '../../mcp/gateway.ts';
import type { PromptSource } from '../../prompts/types.ts';
import { AnalyseInput, AnalysisResult } from '../contracts.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';
import { handleAnalyseWith } from './handler.ts';
import { connectAnalyseTools, openAnalysePrompts } from './llm/adapters.ts';
import { LlmAnalyst } from './llm/analyst.ts';

async function createLlmAnalyst(
  ctx: AgentContext,
): Promise<{ analyst: LlmAnalyst; prompts: PromptSource; tools: ToolGateway | undefined } | undefined> {
  const provider = ctx.config.llm.provider;
  if (provider === undefined) return undefined;
  const cfg = ctx.config.analyse;
  const client = await createLlmClient(provider, { registry: ctx.registry, logger: ctx.logger });
  const prompts = await openAnalysePrompts(cfg.prompts.dir, ctx.config.prompts, {
    logger: ctx.logger,
    metrics: ctx.registry,
  });
  let tools: ToolGateway | undefined;
  try {
    tools = await connectAnalyseTools(cfg.mcp, ctx.logger);
  } catch (err) {
    await prompts.close();
    throw err;
  }
  const analyst = new LlmAnalyst({
    client,
    prompts,
    ...(tools ? { tools } : {}),
    promptName: cfg.prompts.name,
    limits: {
      maxToolRounds: cfg.maxToolRounds,
      maxToolCalls: cfg.maxToolCalls,
      maxTotalTokens: cfg.maxTotalTokens,
      timeoutMs: cfg.timeoutMs,
      maxRuleRepairRounds: cfg.maxRuleRepairRounds,
    },
    logger: ctx.logger,
  });
  ctx.logger.info(
    { provider: provider.kind, model: provider.model, tools: tools !== undefined, prompt: cfg.prompts.name },
    'LLM analyst enabled',
  );
  return { analyst, prompts, tools };
}

export async function createAnalyseAgent(ctx: AgentContext): Promise<AgentParts> {
  const llm = await createLlmAnalyst(ctx);
  const analyse = defineSkill({
    id: 'incident.analyse',
    name: 'Incident analysis',
    description:
      'Verdict, severity, ATT&CK techniques and an explanation citing event ids, with recommended actions from the catalogue',
    input: AnalyseInput,
    output: AnalysisResult,
    handle: async (input, skillCtx) => {
      const result = await handleAnalyseWith(input, llm?.analyst, { traceId: skillCtx.traceId });
      skillCtx.logger.info(
        {
          incidentId: input.incident.id,
          verdict: result.verdict,
          severity: result.severity,
          techniques: result.techniques.map((t) => t.id),
          analyst: result.analyst,
          ...(result.degradedReason !== undefined ? { degradedReason: result.degradedReason } : {}),
          ...(result.llmCalls !== undefined
            ? {
                llmCalls: result.llmCalls.length,
                tokens: result.llmCalls.reduce((n, c) => n + c.inputTokens + c.outputTokens, 0),
              }
            : {}),
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
    close: async () => {
      await llm?.tools?.close();
      await llm?.prompts.close();
    },
  };
}
