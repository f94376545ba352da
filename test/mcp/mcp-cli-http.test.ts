/**
 * `falconer mcp --listen 127.0.0.1:0 --token-file F` as a process: the token
 * from the file, the dev PKI issuing mcp's certificate beside an existing CA,
 * metrics on the ops port, tools that need no agent answering, tools whose
 * agent is down answering MCP_BACKEND_UNAVAILABLE, and a clean stop on SIGTERM.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki } from '../../src/a2a/pki.ts';
import { connectMcpGateway } from '../../src/mcp/client.ts';
import { PROJECT_ROOT } from '../support/paths.ts';
import { CANDIDATE_RULE } from './fixtures.ts';

const TOKEN = 'cli-http-token-0123456789abcdef';
let dir: string;
let child: ChildProcess | undefined;
let stderr = '';

/** The real CLI, as a user runs it. */
function command(): string[] {
  return [join(PROJECT_ROOT, 'bin/falconer.js'), 'mcp'];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'falconer-mcp-cli-'));
  await ensureDevPki({
    dir: join(dir, 'pki'),
    trustDomain: 'falconer.local',
    namespace: 'default',
    agents: ['detect'],
  });
  await writeFile(join(dir, 'mcp-token'), `${TOKEN}\n`, { mode: 0o600 });
});

after(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

test('falconer mcp over HTTP as a process', async () => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('FALCONER_')) env[k] = v;
  child = spawn(
    process.execPath,
    [
      ...command(),
      '--listen',
      '127.0.0.1:0',
      '--ops-port',
      '0',
      '--token-file',
      join(dir, 'mcp-token'),
      '--data-dir',
      dir,
    ],
    // Agents on ports nobody listens on: the A2A backend has no one to ask.
    {
      cwd: PROJECT_ROOT,
      env: {
        ...env,
        FALCONER_AGENTS_DETECT_URL: 'https://localhost:1',
        FALCONER_AGENTS_COORDINATOR_URL: 'https://localhost:1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in time:\n${stderr}`)), 60_000);
    child!.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child!.once('exit', (code) => reject(new Error(`exited ${code}:\n${stderr}`)));
  });
  assert.ok(existsSync(join(dir, 'pki', 'mcp.crt')), 'the dev PKI issued mcp its certificate');
  const gateway = await connectMcpGateway({ url, token: TOKEN });
  try {
    const valid = await gateway.call('rules.validate', {
      files: [{ file: 'c.yaml', content: CANDIDATE_RULE }],
    });
    assert.equal(valid.isError, false);
    const down = await gateway.call('events.search', { limit: 1 });
    assert.equal(down.isError, true);
    assert.match(down.text, /MCP_BACKEND_UNAVAILABLE/);
  } finally {
    await gateway.close();
  }
  const unauthorized = await fetch(url, { method: 'POST', body: '{}' });
  assert.equal(unauthorized.status, 401);
  const ops = /"ops":"(http:\/\/[^"]+)"/.exec(stderr)?.[1];
  assert.ok(ops, 'the ops URL is logged');
  const metrics = await (await fetch(`${ops}/metrics`)).text();
  assert.match(
    metrics,
    /falconer_mcp_tool_calls_total\{tool="events.search",outcome="MCP_BACKEND_UNAVAILABLE",agent="mcp"\} 1/,
  );
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
