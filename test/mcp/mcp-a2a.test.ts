/**
 * The MCP server's A2A backend against real detect and coordinator agents
 * over real mTLS: the dev PKI issues mcp's certificate, Falco alerts go into
 * detect's ingest over HTTP, a signal report opens an incident in the
 * coordinator, and the SDK client reads both through `falconer mcp`'s tools.
 * Only identity mcp may call these skills: the same server with another
 * agent's certificate gets refusals, and nothing of the data.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createA2aClient, type A2aClient } from '../../src/a2a/client.ts';
import { ensureDevPki, type DevPki } from '../../src/a2a/pki.ts';
import { EventsSearchOutput, SignalReportOutput } from '../../src/agents/contracts.ts';
import { createCoordinatorAgent } from '../../src/agents/coordinator/agent.ts';
import { report, traceparent } from '../../src/agents/coordinator/testing/fakes.ts';
import { createDetectAgent } from '../../src/agents/detect/agent.ts';
import { runAgent, type RunningAgent } from '../../src/agents/runtime.ts';
import { ConfigSchema, type FalconerConfig } from '../../src/config/schema.ts';
import { isFalconerError } from '../../src/errors.ts';
import { createA2aBackend, type McpBackend } from '../../src/mcp/backend.ts';
import { startMcpHttpServer, type McpHttpServer } from '../../src/mcp/http.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { terminalShellAlert } from '../support/falco-alerts.ts';
import { platformPorts } from '../support/platform-env.ts';
import { callError, callOk } from './fixtures.ts';

const TOKEN = 'a2a-test-token-0123456789abcdef';
const SHOP_TOKEN = 'a2a-shop-token-0123456789abcdef';
let dir: string;
let pki: DevPki;
let config: FalconerConfig;
let detect: RunningAgent;
let coordinator: RunningAgent;
const servers: McpHttpServer[] = [];
const backends: McpBackend[] = [];
const clients: Client[] = [];
const a2aClients: A2aClient[] = [];
let ingest: string;

function alert(i: number, ns: string, pod: string, proc: string): Record<string, unknown> {
  const base = terminalShellAlert();
  const t = new Date(Date.UTC(2026, 10, 20, 9, 0, 0) + i * 1000).toISOString().replace('Z', '123456Z');
  return {
    ...base,
    time: t,
    output: `${t}: Notice shell ${i} (proc=${proc} ns=${ns} pod=${pod})`,
    output_fields: {
      ...(base.output_fields as Record<string, unknown>),
      'evt.time': Date.UTC(2026, 10, 20, 9, 0, 0) * 1e6 + i * 1e9,
      'k8s.ns.name': ns,
      'k8s.pod.name': pod,
      'proc.name': proc,
    },
  };
}

async function mcpServer(tls: 'mcp' | 'analyse'): Promise<McpHttpServer> {
  const files = pki.agents[tls];
  assert.ok(files);
  const backend = await createA2aBackend({
    tls: files,
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    detectUrl: detect.a2a.url,
    coordinatorUrl: coordinator.a2a.url,
    timeoutMs: 10_000,
    logger: silentLogger(),
  });
  backends.push(backend);
  const server = await startMcpHttpServer({
    host: '127.0.0.1',
    port: 0,
    credentials: [
      { token: TOKEN, scope: { name: 'soc', namespaces: ['*'] } },
      { token: SHOP_TOKEN, scope: { name: 'shop', namespaces: ['shop'] } },
    ],
    maxBodyBytes: 1024 * 1024,
    requestTimeoutMs: 20_000,
    timeoutMs: 20_000,
    maxRangeMs: 7 * 24 * 3_600_000,
    backend,
    kube: undefined,
    logger: silentLogger(),
  });
  servers.push(server);
  return server;
}

async function connect(server: McpHttpServer, token = TOKEN): Promise<Client> {
  const client = new Client({ name: 'mcp-a2a-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falconer-mcp-a2a-'));
  const ports = await platformPorts();
  config = ConfigSchema.parse({
    dataDir: dir,
    log: { level: 'warn' },
    ingest: { port: ports.ingest },
    agents: Object.fromEntries(
      ['detect', 'coordinator', 'analyse', 'remediate', 'notify'].map((a) => [
        a,
        { a2aPort: ports.a2a[a], opsPort: ports.ops[a], url: `https://localhost:${ports.a2a[a]}` },
      ]),
    ),
    coordinator: { api: { port: ports.api }, retryInitialMs: 60_000 },
    eventStore: { snapshot: { enabled: false } },
  });
  pki = await ensureDevPki({
    dir: join(dir, 'pki'),
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    agents: ['detect', 'coordinator', 'analyse', 'mcp'],
  });
  coordinator = await runAgent('coordinator', config, createCoordinatorAgent);
  detect = await runAgent('detect', config, createDetectAgent);
  ingest = `http://127.0.0.1:${ports.ingest}/events`;
});

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(a2aClients.map((c) => c.close()));
  await detect?.stop();
  await coordinator?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('the dev PKI issues mcp its SPIFFE certificate', () => {
  assert.ok(pki.agents.mcp?.certFile.endsWith('mcp.crt'));
});

test('events from detect and an incident from the coordinator, through the MCP tools over A2A mTLS', async () => {
  const alerts = [
    ...Array.from({ length: 12 }, (_, i) => alert(i, 'shop', 'web-1', i < 3 ? 'curl' : 'nginx')),
    ...Array.from({ length: 8 }, (_, i) => alert(100 + i, 'billing', 'ledger-1', 'java')),
  ];
  const res = await fetch(ingest, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: alerts.map((a) => JSON.stringify(a)).join('\n'),
  });
  assert.ok(res.status < 300, `ingest answered ${res.status}`);

  const server = await mcpServer('mcp');
  const client = await connect(server);
  const deadline = Date.now() + 20_000;
  let search: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (;;) {
    search = await callOk(client, 'events.search', { limit: 500 });
    if (search.events.length === 20 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(search.events.length, 20, 'every ingested event is searchable');
  const key = 'pod:default/shop/web-1';
  const curl = await callOk(client, 'events.search', {
    workloadKey: key,
    fields: [{ field: 'proc.name', value: 'curl' }],
  });
  assert.equal(curl.events.length, 3);
  const baseline = await callOk(client, 'events.baseline', {
    workloadKey: key,
    kind: 'process',
    value: 'nginx',
  });
  assert.equal(baseline.workload.count, 9);
  assert.equal(baseline.overall.workloads, 1);
  const context = await callOk(client, 'workload.context', { workloadKey: key });
  assert.equal(context.source, 'events');
  assert.equal(context.namespace, 'shop');
  const bt = await callOk(client, 'rules.backtest', {
    rule: '- rule: Curl\n  desc: d\n  condition: proc.name = curl\n  output: o\n  priority: WARNING\n',
  });
  assert.equal(bt.report.hits, 3);
  assert.equal(bt.report.events, 20);

  // A scoped token: detect answers from the shop events only.
  const shop = await connect(server, SHOP_TOKEN);
  const scoped = await callOk(shop, 'events.search', { limit: 500 });
  assert.equal(scoped.events.length, 12);
  const scopedBt = await callOk(shop, 'rules.backtest', {
    rule: '- rule: J\n  desc: d\n  condition: proc.name = java\n  output: o\n  priority: WARNING\n',
  });
  assert.equal(scopedBt.report.hits, 0, 'billing events never reach a shop-scoped backtest');

  // An incident, opened the way detect opens one: signal.report as detect over mTLS.
  const asDetect = await createA2aClient({
    tls: pki.agents.detect!,
    self: 'detect',
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
  });
  a2aClients.push(asDetect);
  const opened = await asDetect.call({
    url: coordinator.a2a.url,
    agent: 'coordinator',
    skill: 'signal.report',
    input: report({ signalId: 'sig-a2a', lastSeenMs: Date.now(), workloadKey: key }),
    output: SignalReportOutput,
    traceparent: traceparent().traceparent,
  });
  const got = await callOk(client, 'incident.get', { id: opened.incidentId });
  assert.equal(got.incident.id, opened.incidentId);
  assert.equal(got.incident.signals[0].id, 'sig-a2a');
  assert.ok(got.incident.timeline.length >= 1);
  await callError(client, 'incident.get', { id: 'nope' }, 'MCP_NOT_FOUND');
});

test('only identity mcp may call the skills: another agent’s certificate gets nothing', async () => {
  const asAnalyse = await createA2aClient({
    tls: pki.agents.analyse!,
    self: 'analyse',
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
  });
  a2aClients.push(asAnalyse);
  await assert.rejects(
    asAnalyse.call({
      url: detect.a2a.url,
      agent: 'detect',
      skill: 'events.search',
      input: {},
      output: EventsSearchOutput,
    }),
    (err: unknown) => isFalconerError(err, 'A2A_FORBIDDEN'),
  );
  const impostor = await mcpServer('analyse');
  const client = await connect(impostor);
  const msg = await callError(client, 'events.search', {}, 'MCP_BACKEND_UNAVAILABLE');
  assert.match(msg, /detect agent did not answer events\.search \(A2A_FORBIDDEN\)/);
  await callError(client, 'incident.get', { id: 'x' }, 'MCP_BACKEND_UNAVAILABLE');
});
