import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { isFalconerError } from '../../src/errors.ts';
import type { Logger } from '../../src/telemetry/logger.ts';
import { LlmProviderConfigSchema, type LlmProviderConfig } from '../../src/llm/config.ts';
import {
  createLlmClient,
  shouldFallBackToOffline,
  type ChatRequest,
  type LlmClient,
} from '../../src/llm/index.ts';
import {
  anthropicText,
  anthropicToolUse,
  errorReply,
  openAiText,
  openAiToolCall,
  startFakeLlmServer,
  type FakeLlmServer,
} from '../support/fake-llm-server.ts';

const KEY = 'sk-test-SECRET-7f3a9c';
const PROMPT = { name: 'analyse', version: '3', hash: 'sha256:abc123' };
const VERDICT_SCHEMA = {
  type: 'object',
  properties: { verdict: { type: 'string', enum: ['malicious', 'benign'] }, confidence: { type: 'number' } },
  required: ['verdict', 'confidence'],
  additionalProperties: false,
};
const SEARCH_TOOL = {
  name: 'events_search',
  description: 'Search events by workload',
  parameters: { type: 'object', properties: { workload: { type: 'string' } }, required: ['workload'] },
};

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

function logSink(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream) as unknown as Logger, text: () => lines.join('') };
}

async function client(
  overrides: Partial<LlmProviderConfig> & { kind: LlmProviderConfig['kind'] },
  extra: { registry?: Registry; logger?: Logger } = {},
): Promise<{ llm: LlmClient; registry: Registry }> {
  const registry = extra.registry ?? new Registry();
  const cfg = LlmProviderConfigSchema.parse({
    baseUrl: overrides.kind === 'anthropic' ? server.url : `${server.url}/v1`,
    model: overrides.kind === 'anthropic' ? 'claude-3-5-haiku-latest' : 'gpt-4o-mini',
    apiKeyEnv: 'TEST_LLM_KEY',
    maxRetries: 0,
    backoff: { baseMs: 10, maxMs: 50 },
    ...overrides,
  });
  const llm = await createLlmClient(cfg, {
    registry,
    env: { TEST_LLM_KEY: KEY },
    ...(extra.logger ? { logger: extra.logger } : {}),
  });
  return { llm, registry };
}

function request(extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    messages: [
      { role: 'system', content: 'You are a SOC analyst.' },
      { role: 'user', content: 'Investigate incident 42.' },
    ],
    prompt: PROMPT,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    ...extra,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  await assert.rejects(p, (err) => {
    caught = err;
    return isFalconerError(err) && err.code === code;
  });
  return caught as Error;
}

describe('OpenAI-compatible provider', () => {
  it('sends a chat completion and normalizes the answer, usage and metrics', async () => {
    const { llm, registry } = await client({ kind: 'openai' });
    server.enqueue(openAiText('All quiet.'));
    const { response, record } = await llm.complete(request({ temperature: 0 }));
    assert.equal(response.content, 'All quiet.');
    assert.equal(response.finishReason, 'stop');
    assert.deepEqual(response.usage, { inputTokens: 120, outputTokens: 30 });
    assert.equal(record.attempts, 1);
    assert.deepEqual(record.prompt, PROMPT);
    const seen = server.requests[0];
    assert.equal(seen?.path, '/v1/chat/completions');
    assert.equal(seen?.headers.authorization, `Bearer ${KEY}`);
    const body = seen?.body as { model: string; messages: unknown[]; temperature: number };
    assert.equal(body.model, 'gpt-4o-mini');
    assert.equal(body.messages.length, 2);
    const metrics = await registry.metrics();
    assert.match(
      metrics,
      /falconer_llm_calls_total\{provider="openai",model="gpt-4o-mini",prompt="analyse",prompt_version="3",outcome="ok"\} 1/,
    );
    assert.match(
      metrics,
      /falconer_llm_tokens_total\{provider="openai",model="gpt-4o-mini",direction="in"\} 120/,
    );
    assert.match(
      metrics,
      /falconer_llm_tokens_total\{provider="openai",model="gpt-4o-mini",direction="out"\} 30/,
    );
    assert.match(
      metrics,
      /falconer_llm_call_duration_seconds_count\{provider="openai",model="gpt-4o-mini",outcome="ok"\} 1/,
    );
  });

  it('round-trips a tool call and then a structured JSON answer', async () => {
    const { llm } = await client({ kind: 'openai' });
    server.enqueue(
      openAiToolCall('events_search', { workload: 'default/web' }, 'call_1'),
      openAiText(JSON.stringify({ verdict: 'malicious', confidence: 0.9 })),
    );
    const req = request({
      tools: [SEARCH_TOOL],
      responseSchema: { name: 'verdict', schema: VERDICT_SCHEMA },
    });
    const first = await llm.complete(req);
    assert.equal(first.response.finishReason, 'tool_calls');
    assert.deepEqual(first.response.toolCalls, [
      { id: 'call_1', name: 'events_search', arguments: { workload: 'default/web' } },
    ]);
    const second = await llm.complete({
      ...req,
      messages: [
        ...req.messages,
        { role: 'assistant', content: '', toolCalls: first.response.toolCalls },
        { role: 'tool', toolCallId: 'call_1', name: 'events_search', content: '[{"id":"ev-1"}]' },
      ],
    });
    assert.deepEqual(JSON.parse(second.response.content), { verdict: 'malicious', confidence: 0.9 });
    const body1 = server.requests[0]?.body as { tools: unknown; response_format: unknown };
    assert.deepEqual(body1.tools, [
      {
        type: 'function',
        function: {
          name: SEARCH_TOOL.name,
          description: SEARCH_TOOL.description,
          parameters: SEARCH_TOOL.parameters,
        },
      },
    ]);
    assert.deepEqual(body1.response_format, {
      type: 'json_schema',
      json_schema: { name: 'verdict', schema: VERDICT_SCHEMA, strict: true },
    });
    const body2 = server.requests[1]?.body as { messages: Record<string, unknown>[] };
    assert.deepEqual(body2.messages[2], {
      role: 'assistant',
      content: '',
      tool_calls: [
        {
          id: 'call_1',
          type: 'function',
          function: { name: 'events_search', arguments: '{"workload":"default/web"}' },
        },
      ],
    });
    assert.deepEqual(body2.messages[3], { role: 'tool', tool_call_id: 'call_1', content: '[{"id":"ev-1"}]' });
  });

  it('speaks Azure OpenAI: api-key header and api-version query, no bearer token', async () => {
    const { llm } = await client({
      kind: 'azure-openai',
      baseUrl: `${server.url}/openai/deployments/gpt4o`,
      apiVersion: '2024-10-21',
    });
    server.enqueue(openAiText('ok'));
    await llm.complete(request());
    const seen = server.requests[0];
    assert.equal(seen?.path, '/openai/deployments/gpt4o/chat/completions');
    assert.equal(seen?.query['api-version'], '2024-10-21');
    assert.equal(seen?.headers['api-key'], KEY);
    assert.equal(seen?.headers.authorization, undefined);
  });
});

describe('Anthropic provider', () => {
  it('sends a Messages request with the Anthropic headers and normalizes the answer', async () => {
    const { llm } = await client({ kind: 'anthropic' });
    server.enqueue(anthropicText('Benign cron job.'));
    const { response } = await llm.complete(request());
    assert.equal(response.content, 'Benign cron job.');
    assert.equal(response.finishReason, 'stop');
    assert.deepEqual(response.usage, { inputTokens: 110, outputTokens: 28 });
    const seen = server.requests[0];
    assert.equal(seen?.path, '/v1/messages');
    assert.equal(seen?.headers['x-api-key'], KEY);
    assert.equal(seen?.headers['anthropic-version'], '2023-06-01');
    const body = seen?.body as { system: string; messages: unknown[]; max_tokens: number };
    assert.equal(body.system, 'You are a SOC analyst.');
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Investigate incident 42.' }] },
    ]);
    assert.ok(body.max_tokens > 0);
  });

  it('round-trips tool_use / tool_result and returns the forced answer tool as JSON content', async () => {
    const { llm } = await client({ kind: 'anthropic' });
    server.enqueue(
      anthropicToolUse('events_search', { workload: 'default/web' }, 'toolu_1'),
      anthropicToolUse('verdict', { verdict: 'benign', confidence: 0.7 }, 'toolu_2'),
    );
    const req = request({
      tools: [SEARCH_TOOL],
      responseSchema: { name: 'verdict', schema: VERDICT_SCHEMA },
    });
    const first = await llm.complete(req);
    assert.equal(first.response.finishReason, 'tool_calls');
    assert.deepEqual(first.response.toolCalls, [
      { id: 'toolu_1', name: 'events_search', arguments: { workload: 'default/web' } },
    ]);
    const second = await llm.complete({
      ...req,
      messages: [
        ...req.messages,
        { role: 'assistant', content: first.response.content, toolCalls: first.response.toolCalls },
        { role: 'tool', toolCallId: 'toolu_1', name: 'events_search', content: '[]' },
      ],
    });
    assert.equal(second.response.finishReason, 'stop');
    assert.deepEqual(second.response.toolCalls, []);
    assert.deepEqual(JSON.parse(second.response.content), { verdict: 'benign', confidence: 0.7 });
    const body1 = server.requests[0]?.body as { tools: { name: string; input_schema: unknown }[] };
    assert.deepEqual(
      body1.tools.map((t) => t.name),
      ['events_search', 'verdict'],
    );
    assert.deepEqual(body1.tools[1]?.input_schema, VERDICT_SCHEMA);
    const body2 = server.requests[1]?.body as {
      messages: { role: string; content: Record<string, unknown>[] }[];
    };
    assert.deepEqual(body2.messages[1]?.content[1], {
      type: 'tool_use',
      id: 'toolu_1',
      name: 'events_search',
      input: { workload: 'default/web' },
    });
    assert.deepEqual(body2.messages[2], {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '[]' }],
    });
  });

  it('forces the answer tool when no investigation tools are offered', async () => {
    const { llm } = await client({ kind: 'anthropic' });
    server.enqueue(anthropicToolUse('verdict', { verdict: 'benign', confidence: 0.5 }));
    const { response } = await llm.complete(
      request({ responseSchema: { name: 'verdict', schema: VERDICT_SCHEMA } }),
    );
    assert.deepEqual(JSON.parse(response.content), { verdict: 'benign', confidence: 0.5 });
    assert.deepEqual((server.requests[0]?.body as { tool_choice: unknown }).tool_choice, {
      type: 'tool',
      name: 'verdict',
    });
  });
});

describe('resilience', () => {
  it('retries a 429 after its Retry-After, then succeeds', async () => {
    const { llm } = await client({ kind: 'openai', maxRetries: 2 });
    server.enqueue(errorReply(429, { 'retry-after': '1' }, 'rate limited'), openAiText('ok'));
    const started = Date.now();
    const { response, record } = await llm.complete(request());
    assert.equal(response.content, 'ok');
    assert.equal(record.attempts, 2);
    assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
    assert.equal(server.requests.length, 2);
  });

  it('retries 5xx with backoff and gives up with LLM_UNAVAILABLE after maxRetries', async () => {
    const { llm } = await client({
      kind: 'openai',
      maxRetries: 2,
      breaker: { failureThreshold: 10, cooldownMs: 1000 },
    });
    server.enqueue(errorReply(500), errorReply(502), errorReply(503));
    const err = await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    assert.equal(server.requests.length, 3);
    assert.ok(shouldFallBackToOffline(err));
  });

  it('does not retry a 400 (LLM_REQUEST_REJECTED)', async () => {
    const { llm } = await client({ kind: 'openai', maxRetries: 3 });
    server.enqueue(errorReply(400, {}, 'bad schema'));
    await rejectsWith(llm.complete(request()), 'LLM_REQUEST_REJECTED');
    assert.equal(server.requests.length, 1);
  });

  it('opens the breaker after consecutive failures, fails fast, then a half-open probe closes it', async () => {
    const { llm, registry } = await client({
      kind: 'openai',
      breaker: { failureThreshold: 2, cooldownMs: 300 },
    });
    server.enqueue(errorReply(500), errorReply(500));
    await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    assert.equal(llm.breakerState, 'open');
    const fast = await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    assert.match(fast.message, /circuit open/);
    assert.equal(server.requests.length, 2, 'no request while open');
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(llm.breakerState, 'half-open');
    server.enqueue(openAiText('back'));
    const { response } = await llm.complete(request());
    assert.equal(response.content, 'back');
    assert.equal(llm.breakerState, 'closed');
    assert.match(await registry.metrics(), /outcome="breaker_open"\} 1/);
  });

  it('a failed half-open probe re-opens the breaker', async () => {
    const { llm } = await client({ kind: 'openai', breaker: { failureThreshold: 1, cooldownMs: 200 } });
    server.enqueue(errorReply(500), errorReply(500));
    await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    await new Promise((r) => setTimeout(r, 250));
    await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
    assert.equal(llm.breakerState, 'open');
    assert.equal(server.requests.length, 2);
  });

  it('fails fast with LLM_BUDGET_EXHAUSTED when calls per minute are spent', async () => {
    const { llm, registry } = await client({
      kind: 'openai',
      budgets: { callsPerMinute: 2, tokensPerDay: 0 },
    });
    server.enqueue(openAiText('1'), openAiText('2'));
    await llm.complete(request());
    await llm.complete(request());
    const err = await rejectsWith(llm.complete(request()), 'LLM_BUDGET_EXHAUSTED');
    assert.ok(shouldFallBackToOffline(err));
    assert.equal(server.requests.length, 2);
    const metrics = await registry.metrics();
    assert.match(metrics, /falconer_llm_budget_remaining_ratio\{budget="calls_per_minute"\} 0\n/);
    assert.match(metrics, /outcome="budget_exhausted"\} 1/);
  });

  it('fails fast when the daily token budget is spent', async () => {
    const { llm } = await client({ kind: 'anthropic', budgets: { callsPerMinute: 0, tokensPerDay: 100 } });
    server.enqueue(anthropicText('big answer'));
    await llm.complete(request()); // 138 tokens: over the budget after the fact
    await rejectsWith(llm.complete(request()), 'LLM_BUDGET_EXHAUSTED');
    assert.equal(server.requests.length, 1);
  });

  it('times out a hanging provider with LLM_TIMEOUT', async () => {
    const { llm } = await client({ kind: 'openai', timeoutMs: 200 });
    server.enqueue({ kind: 'hang' });
    const started = Date.now();
    const err = await rejectsWith(llm.complete(request()), 'LLM_TIMEOUT');
    assert.ok(Date.now() - started < 2000);
    assert.ok(shouldFallBackToOffline(err));
  });

  it('reports a dead endpoint as LLM_UNAVAILABLE', async () => {
    const dead = await startFakeLlmServer();
    const url = dead.url;
    await dead.close();
    const { llm } = await client({ kind: 'openai', baseUrl: url });
    await rejectsWith(llm.complete(request()), 'LLM_UNAVAILABLE');
  });

  it('rejects a 2xx body that is not JSON or has no choices as LLM_BAD_RESPONSE', async () => {
    const { llm } = await client({ kind: 'openai' });
    server.enqueue({ kind: 'json', body: { nothing: true } });
    await rejectsWith(llm.complete(request()), 'LLM_BAD_RESPONSE');
  });
});

describe('secrets', () => {
  it('never puts the API key in errors or logs, even when the server echoes it', async () => {
    const sink = logSink();
    const { llm } = await client({ kind: 'openai', maxRetries: 1 }, { logger: sink.logger });
    server.enqueue(
      errorReply(500, {}, `upstream saw key ${KEY}`),
      errorReply(401, {}, `Incorrect API key provided: ${KEY}`),
    );
    const err = await rejectsWith(llm.complete(request()), 'LLM_REQUEST_REJECTED');
    const serialized = JSON.stringify({ message: err.message, err, stack: err.stack });
    assert.ok(!serialized.includes(KEY), 'key in error');
    assert.match(err.message, /\[redacted\]/);
    server.enqueue(openAiText('ok'));
    await llm.complete(request());
    await new Promise((r) => setImmediate(r));
    const logs = sink.text();
    assert.ok(logs.includes('"prompt":{"name":"analyse","version":"3","hash":"sha256:abc123"}'), logs);
    assert.ok(logs.includes('4bf92f3577b34da6a3ce929d0e0e4736'));
    assert.ok(!logs.includes(KEY), 'key in logs');
  });

  it('reads the key from a secret file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'falconer-llm-'));
    try {
      await writeFile(join(dir, 'key'), `${KEY}\n`);
      const { llm } = await client({ kind: 'anthropic', apiKeyEnv: undefined, apiKeyFile: join(dir, 'key') });
      server.enqueue(anthropicText('ok'));
      await llm.complete(request());
      assert.equal(server.requests[0]?.headers['x-api-key'], KEY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a missing key env var is a CONFIG_INVALID naming the variable, not a value', async () => {
    const cfg = LlmProviderConfigSchema.parse({
      kind: 'openai',
      baseUrl: server.url,
      model: 'm',
      apiKeyEnv: 'NOPE_KEY',
    });
    await rejectsWith(createLlmClient(cfg, { registry: new Registry(), env: {} }), 'CONFIG_INVALID');
  });
});
