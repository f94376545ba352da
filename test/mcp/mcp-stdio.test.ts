/**
 * `falconer mcp --stdio` spawned as a child process, driven by the official
 * SDK Client over its stdio transport: every tool listed and called against
 * an event store snapshot and a coordinator database, the stdio scope taken
 * from the environment, and the stdio ToolGateway.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { connectMcpStdioGateway } from '../../src/mcp/client.ts';
import { PROJECT_ROOT } from '../support/paths.ts';
import {
  ALL_TOOLS,
  CANDIDATE_RULE,
  callError,
  callOk,
  sampleEvents,
  SHOP_WEB,
  writeSnapshot,
} from './fixtures.ts';
import { seedIncident } from './incident-fixture.ts';

let dir: string;
let incidentId: string;
let args: string[];

/** The real CLI, as a user runs it. */
function command(): string[] {
  return [join(PROJECT_ROOT, 'bin/falconer.js'), 'mcp'];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falconer-mcp-stdio-'));
  incidentId = await seedIncident(join(dir, 'coordinator.db'));
  writeSnapshot(join(dir, 'events.ndjson'), sampleEvents());
  args = [
    ...command(),
    '--stdio',
    '--data-dir',
    dir,
    '--events',
    join(dir, 'events.ndjson'),
    '--incidents-db',
    `sqlite:${join(dir, 'coordinator.db')}`,
  ];
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('FALCONER_')) out[k] = v;
  return { ...out, FALCONER_LOG_LEVEL: 'warn', ...extra };
}

test('the SDK client over stdio lists and calls every tool', async () => {
  const client = new Client({ name: 'mcp-stdio-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: env(),
    cwd: PROJECT_ROOT,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ALL_TOOLS);
    const search = await callOk(client, 'events.search', {
      workloadKey: SHOP_WEB,
      fields: [{ field: 'proc.name', value: 'curl' }],
    });
    assert.equal(search.events.length, 4);
    const baseline = await callOk(client, 'events.baseline', {
      workloadKey: SHOP_WEB,
      kind: 'process',
      value: 'curl',
    });
    assert.equal(baseline.overall.workloads, 1);
    const context = await callOk(client, 'workload.context', { workloadKey: SHOP_WEB });
    assert.equal(context.source, 'events');
    const incident = await callOk(client, 'incident.get', { id: incidentId });
    assert.equal(incident.incident.id, incidentId);
    const valid = await callOk(client, 'rules.validate', {
      files: [{ file: 'c.yaml', content: CANDIDATE_RULE }],
    });
    assert.equal(valid.valid, true);
    const bt = await callOk(client, 'rules.backtest', { rule: CANDIDATE_RULE });
    assert.equal(bt.report.hits, 4);
    await callError(client, 'events.search', { limit: 0 }, 'MCP_INVALID_ARGUMENTS');
  } catch (err) {
    throw new Error(`${String(err)}\nserver stderr:\n${stderr.slice(-2000)}`, { cause: err });
  } finally {
    await client.close();
  }
});

test('the stdio scope comes from the environment; the stdio ToolGateway works', async () => {
  const gateway = await connectMcpStdioGateway({
    command: process.execPath,
    args,
    env: env({ FALCONER_MCP_STDIO_NAMESPACES: 'billing' }),
    cwd: PROJECT_ROOT,
  });
  try {
    assert.deepEqual((await gateway.list()).map((t) => t.name).sort(), ALL_TOOLS);
    const refused = await gateway.call('events.search', { workloadKey: SHOP_WEB });
    assert.equal(refused.isError, true);
    assert.match(refused.text, /"code":"MCP_OUT_OF_SCOPE"/);
    const billing = await gateway.call('events.search', { namespace: 'billing', limit: 3 });
    assert.equal(billing.isError, false);
    assert.equal((JSON.parse(billing.text) as { events: unknown[] }).events.length, 3);
  } finally {
    await gateway.close();
  }
});
