/**
 * `falconer mcp` over Streamable HTTP, with the official SDK Client (a client
 * this project did not write): every tool listed and called, bearer-token
 * refusals, scopes (namespaces, tools), range caps, unknown tools, bad
 * arguments, body limits, metrics, and the ToolGateway of src/mcp/client.ts.
 * Data from the in-process backend: a real EventStore and a real coordinator
 * database with an incident the engine created.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Registry } from 'prom-client';
import { openDatabase, type Store } from '../../src/store/db.ts';
import { EventStore } from '../../src/store/event-store.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { createLocalBackend } from '../../src/mcp/backend.ts';
import { connectMcpGateway } from '../../src/mcp/client.ts';
import { startMcpHttpServer, type McpHttpServer } from '../../src/mcp/http.ts';
import { createMcpMetrics } from '../../src/mcp/metrics.ts';
import {
  ALL_TOOLS,
  BILLING,
  CANDIDATE_RULE,
  callError,
  callOk,
  sampleEvents,
  SHOP_API,
  SHOP_WEB,
  T0,
} from './fixtures.ts';
import { seedIncident } from './incident-fixture.ts';

const TOKENS = {
  all: 'all-namespaces-token-0123456789',
  shop: 'shop-only-token-0123456789abcdef',
  billing: 'billing-only-token-0123456789abc',
  searchOnly: 'search-only-token-0123456789abcd',
};

let dir: string;
let db: Store;
let server: McpHttpServer;
let incidentId: string;
const registry = new Registry();
const clients: Client[] = [];

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'mcp-http-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falconer-mcp-http-'));
  incidentId = await seedIncident(join(dir, 'coordinator.db'));
  db = await openDatabase(`sqlite:${join(dir, 'coordinator.db')}`);
  const store = new EventStore();
  store.add(sampleEvents());
  server = await startMcpHttpServer({
    host: '127.0.0.1',
    port: 0,
    credentials: [
      { token: TOKENS.all, scope: { name: 'soc', namespaces: ['*'] } },
      { token: TOKENS.shop, scope: { name: 'shop-team', namespaces: ['shop'] } },
      { token: TOKENS.billing, scope: { name: 'billing-team', namespaces: ['billing'] } },
      {
        token: TOKENS.searchOnly,
        scope: { name: 'search-bot', namespaces: ['*'], tools: ['events.search'] },
      },
    ],
    maxBodyBytes: 64 * 1024,
    requestTimeoutMs: 10_000,
    timeoutMs: 10_000,
    maxRangeMs: 7 * 24 * 3_600_000,
    backend: createLocalBackend({ events: store, incidents: db.db }),
    kube: undefined,
    logger: silentLogger(),
    metrics: createMcpMetrics(registry),
    now: () => T0 + 3_600_000,
  });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await server?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('MCP over Streamable HTTP with the SDK client', () => {
  test('lists every tool with input and output JSON Schemas', async () => {
    const client = await connect(TOKENS.all);
    assert.equal(client.getServerVersion()?.name, 'falconer');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', t.name);
      assert.equal(t.outputSchema?.type, 'object', t.name);
      assert.equal(t.annotations?.readOnlyHint, true, t.name);
      assert.ok((t.description ?? '').length > 20, t.name);
    }
    const search = tools.find((t) => t.name === 'events.search');
    assert.ok(
      JSON.stringify(search?.inputSchema).includes('proc.pname'),
      'the field allow-list is in the schema',
    );
  });

  test('events.search: by workload, namespace/pod, rule, field filters; newest first; limit and truncated', async () => {
    const client = await connect(TOKENS.all);
    const byKey = await callOk(client, 'events.search', { workloadKey: SHOP_WEB, limit: 5 });
    assert.equal(byKey.events.length, 5);
    assert.equal(byKey.truncated, true);
    const times = byKey.events.map((e: { timeMs: number }) => e.timeMs);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    const curl = await callOk(client, 'events.search', {
      namespace: 'shop',
      pod: 'web-1',
      fields: [
        { field: 'proc.name', value: 'curl' },
        { field: 'proc.cmdline', op: 'contains', value: '| sh' },
      ],
    });
    assert.equal(curl.events.length, 4);
    assert.equal(curl.truncated, false);
    const rule = await callOk(client, 'events.search', {
      rule: 'Outbound connection to C2 server',
      limit: 500,
    });
    assert.equal(rule.events.length, 4);
    const ranged = await callOk(client, 'events.search', { fromMs: T0 + 21_000, toMs: T0 + 36_000 });
    assert.deepEqual(
      ranged.events.map((e: { id: string }) => e.id).sort(),
      Array.from({ length: 15 }, (_, i) => `ev-${21 + i}`).sort(),
    );
    const port = await callOk(client, 'events.search', { fields: [{ field: 'fd.sport', value: '8080' }] });
    assert.ok(port.events.every((e: { workload: { key: string } }) => e.workload.key === SHOP_API));
  });

  test('events.baseline: counts in the workload and overall, workloads that have it, first and last seen', async () => {
    const client = await connect(TOKENS.all);
    const nginx = await callOk(client, 'events.baseline', {
      workloadKey: SHOP_WEB,
      kind: 'process',
      value: 'nginx',
    });
    assert.equal(nginx.workload.count, 20);
    assert.equal(nginx.workload.events, 24);
    assert.equal(nginx.overall.count, 35);
    assert.equal(nginx.overall.workloads, 2);
    assert.equal(nginx.overall.totalWorkloads, 4);
    assert.equal(nginx.population, 'all');
    assert.equal(nginx.workload.firstSeenMs, T0 + 1000);
    const curl = await callOk(client, 'events.baseline', {
      workloadKey: SHOP_WEB,
      kind: 'process',
      value: 'curl',
    });
    assert.equal(curl.overall.workloads, 1, 'curl is rare: one workload');
    const parent = await callOk(client, 'events.baseline', {
      workloadKey: BILLING,
      kind: 'parent',
      value: 'sh',
    });
    assert.equal(parent.workload.count, 20);
    const image = await callOk(client, 'events.baseline', {
      workloadKey: SHOP_API,
      kind: 'image',
      value: 'docker.io/library/nginx',
    });
    assert.equal(image.overall.workloads, 2);
    const port = await callOk(client, 'events.baseline', {
      workloadKey: SHOP_WEB,
      kind: 'port',
      value: '4444',
    });
    assert.equal(port.workload.count, 4);
    const path = await callOk(client, 'events.baseline', {
      workloadKey: BILLING,
      kind: 'path',
      value: '/etc/',
    });
    assert.equal(path.overall.count, 20);
    // A scoped token counts only over its namespaces.
    const shop = await connect(TOKENS.shop);
    const scoped = await callOk(shop, 'events.baseline', {
      workloadKey: SHOP_WEB,
      kind: 'process',
      value: 'java',
    });
    assert.equal(scoped.overall.count, 0);
    assert.equal(scoped.population, 'scoped-namespaces');
  });

  test('workload.context without a cluster: from the events, and says so', async () => {
    const client = await connect(TOKENS.all);
    const ctx = await callOk(client, 'workload.context', { workloadKey: SHOP_WEB });
    assert.equal(ctx.source, 'events');
    assert.equal(ctx.namespace, 'shop');
    assert.equal(ctx.pod, 'web-1');
    assert.equal(ctx.node, 'worker-1');
    assert.equal(ctx.image, 'docker.io/library/nginx:1.27');
    assert.equal(ctx.kubernetesError, 'no Kubernetes API configured');
    const none = await callOk(client, 'workload.context', { namespace: 'shop', pod: 'gone' });
    assert.equal(none.source, 'none');
  });

  test('incident.get: timeline, signals, analysis, proposals', async () => {
    const client = await connect(TOKENS.shop);
    const { incident } = await callOk(client, 'incident.get', { id: incidentId });
    assert.equal(incident.id, incidentId);
    assert.equal(incident.workload.namespace, 'shop');
    assert.ok(incident.timeline.length >= 2);
    assert.equal(incident.signals[0].id, 'sig-1');
    assert.ok(incident.analysis, 'the fake analyst answered');
    assert.ok(Array.isArray(incident.proposals));
    await callError(client, 'incident.get', { id: 'no-such-incident' }, 'MCP_NOT_FOUND');
  });

  test('rules.validate and rules.backtest', async () => {
    const client = await connect(TOKENS.all);
    const ok = await callOk(client, 'rules.validate', {
      files: [{ file: 'candidate.yaml', content: CANDIDATE_RULE }],
    });
    assert.equal(ok.valid, true);
    assert.equal(ok.files[0].rules, 1);
    const bad = await callOk(client, 'rules.validate', {
      files: [
        {
          file: 'bad.yaml',
          content: '- rule: x\n  condition: proc.name = \n  output: o\n  priority: WARNING\n  desc: d\n',
        },
      ],
    });
    assert.equal(bad.valid, false);
    assert.ok(bad.files[0].errors[0].line >= 1);
    const bt = await callOk(client, 'rules.backtest', {
      rule: CANDIDATE_RULE,
      incidentEventIds: ['ev-56', 'ev-57', 'ev-58', 'ev-59'],
    });
    assert.equal(bt.valid, true);
    assert.equal(bt.report.incident.hits, 4);
    assert.equal(bt.report.other.hits, 0);
    assert.equal(bt.report.events, 60);
    const shop = await connect(TOKENS.billing);
    const scoped = await callOk(shop, 'rules.backtest', { rule: CANDIDATE_RULE });
    assert.equal(scoped.report.events, 20, 'only the billing events');
  });
});

describe('refusals', () => {
  test('no token, a wrong token, a malformed header: 401 with a JSON-RPC error and WWW-Authenticate', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789',
      'Basic abc',
      `Bearer ${TOKENS.all}x`,
    ]) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body,
      });
      assert.equal(res.status, 401, String(authorization));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      const json = (await res.json()) as { error: { message: string } };
      assert.match(json.error.message, /MCP_UNAUTHORIZED/);
    }
    const client = new Client({ name: 'intruder', version: '1' });
    await assert.rejects(
      client.connect(
        new StreamableHTTPClientTransport(new URL(server.url), {
          requestInit: { headers: { authorization: 'Bearer not-a-configured-token' } },
        }),
      ),
    );
    await client.close().catch(() => {});
  });

  test('out-of-scope namespaces and workloads are refused; unscoped searches see only the scope', async () => {
    const client = await connect(TOKENS.shop);
    const msg = await callError(client, 'events.search', { namespace: 'billing' }, 'MCP_OUT_OF_SCOPE');
    assert.doesNotMatch(msg, /ledger|java/, 'nothing about the other namespace leaks');
    await callError(client, 'events.search', { workloadKey: BILLING }, 'MCP_OUT_OF_SCOPE');
    await callError(client, 'events.search', { workloadKey: 'host:worker-1' }, 'MCP_OUT_OF_SCOPE');
    await callError(
      client,
      'events.baseline',
      { workloadKey: BILLING, kind: 'process', value: 'java' },
      'MCP_OUT_OF_SCOPE',
    );
    await callError(
      client,
      'workload.context',
      { namespace: 'billing', pod: 'ledger-1' },
      'MCP_OUT_OF_SCOPE',
    );
    await callError(
      client,
      'rules.backtest',
      { rule: CANDIDATE_RULE, workloadKey: BILLING },
      'MCP_OUT_OF_SCOPE',
    );
    const all = await callOk(client, 'events.search', { limit: 500 });
    assert.equal(all.events.length, 39);
    assert.ok(all.events.every((e: { workload: { namespace?: string } }) => e.workload.namespace === 'shop'));
    // Another namespace's incident looks exactly like a missing one.
    const billing = await connect(TOKENS.billing);
    const notFound = await callError(billing, 'incident.get', { id: incidentId }, 'MCP_NOT_FOUND');
    assert.doesNotMatch(notFound, /shop|web-1/);
  });

  test('a tool outside the token’s tools is not listed and is refused', async () => {
    const client = await connect(TOKENS.searchOnly);
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['events.search'],
    );
    await callError(client, 'incident.get', { id: incidentId }, 'MCP_OUT_OF_SCOPE');
  });

  test('a range over the cap, a reversed range, unknown tools and bad arguments: located tool errors', async () => {
    const client = await connect(TOKENS.all);
    const tooLong = await callError(
      client,
      'events.search',
      { fromMs: T0 - 8 * 24 * 3_600_000, toMs: T0 },
      'MCP_RANGE_TOO_LONG',
    );
    assert.match(tooLong, /at most 168 h/);
    await callError(client, 'events.search', { fromMs: T0 - 30 * 24 * 3_600_000 }, 'MCP_RANGE_TOO_LONG');
    await callError(
      client,
      'events.baseline',
      { workloadKey: SHOP_WEB, kind: 'process', value: 'x', fromMs: T0 - 9e8, toMs: T0 },
      'MCP_RANGE_TOO_LONG',
    );
    await callError(client, 'events.search', { fromMs: T0, toMs: T0 - 1 }, 'MCP_INVALID_ARGUMENTS');
    const unknown = await callError(client, 'shell.exec', { cmd: 'id' }, 'MCP_UNKNOWN_TOOL');
    assert.match(unknown, /events\.search/, 'the message lists the tools');
    const limit = await callError(client, 'events.search', { limit: 10_000 }, 'MCP_INVALID_ARGUMENTS');
    assert.match(limit, /^invalid arguments for events\.search: limit: /);
    const field = await callError(
      client,
      'events.search',
      { fields: [{ field: 'user.password', value: 'x' }] },
      'MCP_INVALID_ARGUMENTS',
    );
    assert.match(field, /fields\.0\.field: /);
    await callError(client, 'events.search', { surprise: true }, 'MCP_INVALID_ARGUMENTS');
    await callError(
      client,
      'events.baseline',
      { workloadKey: SHOP_WEB, kind: 'syscall', value: 'x' },
      'MCP_INVALID_ARGUMENTS',
    );
    await callError(client, 'workload.context', {}, 'MCP_INVALID_ARGUMENTS');
  });

  test('bodies over the limit get 413; non-JSON 400; GET 405; other paths 404', async () => {
    const headers = {
      authorization: `Bearer ${TOKENS.all}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const big = await fetch(server.url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params: { pad: 'x'.repeat(70_000) },
      }),
    });
    assert.equal(big.status, 413);
    const notJson = await fetch(server.url, { method: 'POST', headers, body: '{"jsonrpc":' });
    assert.equal(notJson.status, 400);
    assert.equal(((await notJson.json()) as { error: { code: number } }).error.code, -32700);
    assert.equal((await fetch(server.url, { headers })).status, 405);
    assert.equal((await fetch(server.url.replace('/mcp', '/other'), { headers })).status, 404);
  });
});

describe('metrics and the ToolGateway client', () => {
  test('calls are counted by tool and outcome', async () => {
    const text = await registry.metrics();
    assert.match(text, /falconer_mcp_tool_calls_total\{tool="events.search",outcome="ok"\} \d+/);
    assert.match(
      text,
      /falconer_mcp_tool_calls_total\{tool="events.search",outcome="MCP_OUT_OF_SCOPE"\} \d+/,
    );
    assert.match(text, /falconer_mcp_tool_calls_total\{tool="unknown",outcome="MCP_UNKNOWN_TOOL"\} 1/);
    assert.match(text, /falconer_mcp_auth_failures_total\{reason="missing"\} 1/);
    assert.match(text, /falconer_mcp_tool_duration_seconds_bucket/);
  });

  test('connectMcpGateway lists ToolSpecs and calls tools; a wrong token fails to connect', async () => {
    const gateway = await connectMcpGateway({ url: server.url, token: TOKENS.shop });
    try {
      const specs = await gateway.list();
      assert.deepEqual(specs.map((s) => s.name).sort(), ALL_TOOLS);
      const search = specs.find((s) => s.name === 'events.search');
      assert.equal(search?.parameters.type, 'object');
      assert.ok(search?.description.includes('newest first'));
      const ok = await gateway.call('events.search', { workloadKey: SHOP_WEB, limit: 2 });
      assert.equal(ok.isError, false);
      assert.equal((JSON.parse(ok.text) as { events: unknown[] }).events.length, 2);
      const refused = await gateway.call('events.search', { namespace: 'billing' });
      assert.equal(refused.isError, true);
      assert.match(refused.text, /MCP_OUT_OF_SCOPE/);
    } finally {
      await gateway.close();
    }
    await assert.rejects(
      connectMcpGateway({ url: server.url, token: 'wrong-token-0123456789' }),
      (err: Error) => /MCP_CLIENT|cannot connect/.test(`${(err as { code?: string }).code} ${err.message}`),
    );
  });
});
