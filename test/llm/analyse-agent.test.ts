/** The analyse agent's skill as the runtime builds it: LLM analyst with `llm.provider`, offline without. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { SkillContext } from '../../src/a2a/skill.ts';
import { createAnalyseAgent } from '../../src/agents/analyse/agent.ts';
import type { AnalysisResult } from '../../src/agents/contracts.ts';
import type { AgentContext } from '../../src/agents/runtime.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import { answer, answerReply, incident, TRACE_ID } from './analyst-support.ts';

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});

function contextWith(config: unknown): AgentContext {
  // Only what the analyse agent reads; the rest of the runtime is not involved.
  return {
    name: 'analyse',
    config: ConfigSchema.parse(config),
    logger: silentLogger(),
    registry: new Registry(),
  } as unknown as AgentContext;
}

const skillCtx = {
  caller: { spiffeId: 'spiffe://falconer.local/ns/default/sa/falconer-coordinator', agent: 'coordinator' },
  messageId: 'm-1',
  traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
  traceId: TRACE_ID,
  logger: silentLogger(),
} as SkillContext;

describe('analyse agent', () => {
  it('with llm.provider: the LLM analyst answers with the shipped prompt, calls recorded', async () => {
    const parts = await createAnalyseAgent(
      contextWith({
        llm: {
          provider: { kind: 'openai', baseUrl: `${server.url}/v1`, model: 'gpt-4o-mini', maxRetries: 0 },
        },
      }),
    );
    try {
      server.enqueue(answerReply('openai', answer()));
      const skill = parts.skills.find((s) => s.id === 'incident.analyse');
      assert.ok(skill);
      const r = (await skill.handle(incident(), skillCtx)) as AnalysisResult;
      assert.equal(r.analyst, 'llm', r.degradedReason);
      assert.equal(r.llmCalls?.[0]?.traceId, TRACE_ID);
      assert.equal(r.llmCalls?.[0]?.prompt.name, 'incident-analysis');
      assert.notEqual(
        r.llmCalls?.[0]?.prompt.version,
        'builtin-1',
        'the AgentPrompt from deploy/prompts, not the fallback',
      );
    } finally {
      await parts.close();
    }
  });

  it('without a provider: unchanged, the offline analyst and no LLM request', async () => {
    const before = server.requests.length;
    const parts = await createAnalyseAgent(contextWith({}));
    try {
      const r = (await parts.skills[0]!.handle(incident(), skillCtx)) as AnalysisResult;
      assert.equal(r.analyst, 'offline');
      assert.equal(r.llmCalls, undefined);
      assert.equal(server.requests.length, before);
    } finally {
      await parts.close();
    }
  });
});
