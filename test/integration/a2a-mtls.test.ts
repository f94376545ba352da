/**
 * The A2A wiring over real TLS on 127.0.0.1: SDK client, hand-written
 * JSON-RPC, curl, refusals at the TLS layer and by the authorization table,
 * bad requests, idempotent retries, certificate rotation, the client's
 * server-identity check and traceparent propagation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { Registry } from 'prom-client';
import { EventsQueryInput, EventsQueryOutput } from '../../src/agents/contracts.ts';
import { isFalconerError } from '../../src/errors.ts';
import { MemoryAuditSink } from '../../src/a2a/audit-sink.ts';
import { createA2aClient, type A2aClient } from '../../src/a2a/client.ts';
import { ensureDevPki, issueCertificate, type DevPki, type PemPair } from '../../src/a2a/pki.ts';
import { startA2aServer, type A2aServer } from '../../src/a2a/server.ts';
import { startOpsServer } from '../../src/a2a/ops-server.ts';
import { defineSkill, type SkillContext } from '../../src/a2a/skill.ts';
import { agentSpiffeId } from '../../src/a2a/identity.ts';
import { newTraceparent, parseTraceparent } from '../../src/telemetry/tracing.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { requireComponent } from '../support/components.ts';

const TD = 'falconer.local';
const NS = 'default';

let root: string;
let pki: DevPki;
let server: A2aServer;
let registry: Registry;
const audit = new MemoryAuditSink();
const seen: Array<{ input: unknown; ctx: SkillContext }> = [];
let handlerDelayMs = 0;
const clients: A2aClient[] = [];

const eventsQuery = defineSkill({
  id: 'events.query',
  name: 'Query events',
  description: 'Recent events from the event store',
  input: EventsQueryInput,
  output: EventsQueryOutput,
  handle: async (input, ctx) => {
    seen.push({ input, ctx });
    if (handlerDelayMs) await new Promise((r) => setTimeout(r, handlerDelayMs));
    return { events: [], truncated: input.limit < 5 };
  },
});

function files(agent: 'detect' | 'coordinator' | 'analyse' | 'notify') {
  const f = pki.agents[agent];
  assert.ok(f);
  return f;
}

async function client(
  self: 'coordinator' | 'analyse' | 'notify',
  extra: { retry?: { attempts: number } } = {},
) {
  const c = await createA2aClient({
    tls: files(self),
    self,
    trustDomain: TD,
    namespace: NS,
    logger: silentLogger(),
    registry: new Registry(),
    ...extra,
  });
  clients.push(c);
  return c;
}

/** events.query on the test server through client `c`. */
const queryThrough = (c: A2aClient, limit: number) => () =>
  c.call({
    url: server.url,
    agent: 'detect',
    skill: 'events.query',
    input: { limit },
    output: EventsQueryOutput,
  });

/** TLS handshakes the test server completes while `fn` runs. */
async function handshakesDuring(fn: () => Promise<unknown>): Promise<number> {
  let handshakes = 0;
  const count = () => handshakes++;
  server.server.on('secureConnection', count);
  try {
    await fn();
  } finally {
    server.server.off('secureConnection', count);
  }
  return handshakes;
}

function mtlsDispatcher(pair: { cert: string; key: string }, ca: string): Agent {
  return new Agent({ connect: { cert: pair.cert, key: pair.key, ca, rejectUnauthorized: true } });
}

async function rpc(dispatcher: Agent, body: string, headers: Record<string, string> = {}) {
  const res = await undiciFetch(`${server.url}/a2a/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', ...headers },
    body,
    dispatcher,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function sendMessageBody(
  skill: string,
  input: unknown,
  messageId = `m-${Math.random()}`,
  traceparent?: string,
): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'SendMessage',
    params: {
      message: {
        messageId,
        role: 'ROLE_USER',
        parts: [{ data: { skill, input } }],
        metadata: traceparent ? { traceparent } : {},
      },
    },
  });
}

async function read(agent: 'detect' | 'coordinator' | 'notify' | 'analyse') {
  const f = files(agent);
  return {
    cert: await readFile(f.certFile, 'utf8'),
    key: await readFile(f.keyFile, 'utf8'),
    ca: await readFile(f.caFile, 'utf8'),
  };
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'falconer-a2a-'));
  pki = await ensureDevPki({
    dir: join(root, 'pki'),
    trustDomain: TD,
    namespace: NS,
    agents: ['detect', 'coordinator', 'analyse', 'notify'],
  });
  // Serve detect's certificate from a cert-manager-like secret dir (..data symlink) so rotation can swap it.
  const secret = join(root, 'secret');
  await mkdir(join(secret, '..v1'), { recursive: true });
  const d = await read('detect');
  await writeFile(join(secret, '..v1', 'tls.crt'), d.cert);
  await writeFile(join(secret, '..v1', 'tls.key'), d.key, { mode: 0o600 });
  await writeFile(join(secret, '..v1', 'ca.crt'), d.ca);
  await symlink('..v1', join(secret, '..data'));
  for (const f of ['tls.crt', 'tls.key', 'ca.crt']) await symlink(join('..data', f), join(secret, f));
  registry = new Registry();
  server = await startA2aServer({
    agent: 'detect',
    card: { description: 'detect agent (test)' },
    skills: [eventsQuery],
    tls: {
      certFile: join(secret, 'tls.crt'),
      keyFile: join(secret, 'tls.key'),
      caFile: join(secret, 'ca.crt'),
    },
    host: '127.0.0.1',
    port: 0,
    trustDomain: TD,
    namespace: NS,
    audit,
    logger: silentLogger(),
    registry,
    tlsPollMs: 200,
  });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

describe('A2A over mTLS', () => {
  test('the SDK client calls a skill; caller identity, traceparent and output arrive', async () => {
    const c = await client('coordinator');
    const traceparent = newTraceparent();
    seen.length = 0;
    const out = await c.call({
      url: server.url,
      agent: 'detect',
      skill: 'events.query',
      input: { limit: 3 },
      output: EventsQueryOutput,
      traceparent,
    });
    assert.deepEqual(out, { events: [], truncated: true });
    assert.equal(seen.length, 1);
    const ctx = seen[0]!.ctx;
    assert.equal(ctx.caller.agent, 'coordinator');
    assert.equal(ctx.caller.spiffeId, agentSpiffeId(TD, NS, 'coordinator'));
    // Same trace, a new span (client span, then server span).
    assert.equal(ctx.traceId, parseTraceparent(traceparent)!.traceId);
    assert.notEqual(parseTraceparent(ctx.traceparent)!.spanId, parseTraceparent(traceparent)!.spanId);
    assert.equal(seen[0]!.input && (seen[0]!.input as { limit: number }).limit, 3);
    const last = audit.records.at(-1)!;
    assert.equal(last.result, 'ok');
    assert.equal(last.actor, agentSpiffeId(TD, NS, 'coordinator'));
    assert.equal(last.action, 'a2a:detect/events.query');
    assert.equal(last.traceId, ctx.traceId);
    assert.match(last.inputDigest, /^[0-9a-f]{64}$/);
    assert.equal(
      (await metricValue('falconer_a2a_requests_total', { skill: 'events.query', outcome: 'ok' })) >= 1,
      true,
    );
  });

  test('an idle connection outlives Node’s 5 s keep-alive: a call 6 s later skips the TLS handshake', async () => {
    const call = queryThrough(await client('analyse'), 1);
    const handshakes = await handshakesDuring(async () => {
      await call();
      await new Promise((r) => setTimeout(r, 6_000));
      await call();
    });
    assert.equal(handshakes, 1);
  });

  test('the agent card lists the skills and the real port', async () => {
    const d = await read('coordinator');
    const res = await undiciFetch(`${server.url}/.well-known/agent-card.json`, {
      dispatcher: mtlsDispatcher(d, d.ca),
    });
    const card = (await res.json()) as {
      skills: Array<{ id: string }>;
      supportedInterfaces: Array<{ url: string; protocolBinding: string }>;
    };
    assert.deepEqual(
      card.skills.map((s) => s.id),
      ['events.query'],
    );
    assert.equal(card.supportedInterfaces[0]!.url, `https://127.0.0.1:${server.port}/a2a/jsonrpc`);
    assert.equal(card.supportedInterfaces[0]!.protocolBinding, 'JSONRPC');
  });

  test('a hand-written JSON-RPC SendMessage (undici, client certificate, A2A-Version: 1.0) works', async () => {
    const d = await read('analyse');
    const traceparent = newTraceparent();
    const { status, json } = await rpc(
      mtlsDispatcher(d, d.ca),
      sendMessageBody('events.query', { limit: 10 }, 'hand-1', traceparent),
    );
    assert.equal(status, 200);
    assert.equal(json.result.message.role, 'ROLE_AGENT');
    assert.deepEqual(json.result.message.parts[0].data, { output: { events: [], truncated: false } });
    // The reply names the server span of the same trace.
    assert.equal(
      parseTraceparent(json.result.message.metadata.traceparent)!.traceId,
      parseTraceparent(traceparent)!.traceId,
    );
  });

  test('without A2A-Version the SDK refuses (it would be a v0.3 request)', async () => {
    const d = await read('analyse');
    const { json } = await rpc(mtlsDispatcher(d, d.ca), sendMessageBody('events.query', { limit: 10 }), {
      'A2A-Version': '',
    });
    assert.equal(json.error.code, -32009);
    assert.match(json.error.message, /A2A-Version: 1\.0/);
  });

  test('no client certificate: refused in the TLS handshake', async () => {
    const d = await read('coordinator');
    await assert.rejects(
      undiciFetch(`${server.url}/a2a/jsonrpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'A2A-Version': '1.0' },
        body: sendMessageBody('events.query', {}),
        dispatcher: new Agent({ connect: { ca: d.ca } }),
      }),
      (err: Error) => err.message === 'fetch failed',
    );
  });

  test('a certificate from another CA: refused in the TLS handshake', async () => {
    const d = await read('coordinator');
    const otherCa = await issueCertificate({ commonName: 'evil CA' });
    const forged: PemPair = await issueCertificate({
      ca: otherCa,
      commonName: 'x',
      uris: [agentSpiffeId(TD, NS, 'coordinator')],
    });
    await assert.rejects(
      rpc(
        mtlsDispatcher({ cert: forged.certPem, key: forged.keyPem }, d.ca),
        sendMessageBody('events.query', {}),
      ),
      /fetch failed/,
    );
  });

  test('a valid identity that may not call the skill: A2A error naming caller and skill, and an audit record', async () => {
    const before = seen.length;
    const d = await read('notify');
    const { status, json } = await rpc(
      mtlsDispatcher(d, d.ca),
      sendMessageBody('events.query', { limit: 1 }, 'deny-1'),
    );
    assert.equal(status, 200);
    assert.equal(json.error.code, -32050);
    assert.match(json.error.message, /falconer-notify/);
    assert.match(json.error.message, /events\.query/);
    assert.equal(json.error.data[0].reason, 'A2A_FORBIDDEN');
    assert.equal(seen.length, before, 'handler not run');
    const rec = audit.records.find((r) => r.messageId === 'deny-1');
    assert.ok(rec);
    assert.equal(rec.result, 'refused');
    assert.equal(rec.actor, agentSpiffeId(TD, NS, 'notify'));
    // Through the client, the same refusal is a FalconerError with a stable code.
    const c = await client('notify');
    await assert.rejects(
      c.call({
        url: server.url,
        agent: 'detect',
        skill: 'events.query',
        input: {},
        output: EventsQueryOutput,
      }),
      (err: unknown) => isFalconerError(err, 'A2A_FORBIDDEN'),
    );
    assert.ok(
      (await metricValue('falconer_a2a_requests_total', { skill: 'events.query', outcome: 'forbidden' })) >=
        2,
    );
  });

  test('a CA-signed certificate without a Falconer identity is refused by authorization', async () => {
    const ca: PemPair = {
      certPem: await readFile(pki.caCertFile, 'utf8'),
      keyPem: await readFile(pki.caKeyFile, 'utf8'),
    };
    const stranger = await issueCertificate({
      ca,
      commonName: 'stranger',
      uris: ['spiffe://falconer.local/ns/other/sa/falconer-coordinator'],
    });
    const { json } = await rpc(
      mtlsDispatcher({ cert: stranger.certPem, key: stranger.keyPem }, ca.certPem),
      sendMessageBody('events.query', {}),
    );
    assert.equal(json.error.code, -32050);
    assert.match(json.error.message, /not a Falconer agent/);
  });

  test('unknown skill, invalid input, malformed JSON, oversized body: clear errors, counted', async () => {
    const d = await read('coordinator');
    const disp = mtlsDispatcher(d, d.ca);
    const unknown = await rpc(disp, sendMessageBody('no.such.skill', {}));
    assert.equal(unknown.json.error.code, -32004);
    assert.match(unknown.json.error.message, /no skill "no\.such\.skill".*events\.query/);
    const invalid = await rpc(disp, sendMessageBody('events.query', { limit: 'many' }));
    assert.equal(invalid.json.error.code, -32602);
    assert.match(invalid.json.error.message, /limit/);
    const malformed = await rpc(disp, '{"jsonrpc":"2.0",');
    assert.equal(malformed.json.error.code, -32700);
    const big = await rpc(disp, sendMessageBody('events.query', { rule: 'x'.repeat(1_100_000) }));
    assert.equal(big.status, 413);
    assert.match(big.json.error.message, /exceeds 1048576 bytes/);
    const noPart = await rpc(
      disp,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'SendMessage',
        params: { message: { messageId: 'x', role: 'ROLE_USER', parts: [{ text: 'hi' }] } },
      }),
    );
    assert.equal(noPart.json.error.code, -32602);
    assert.ok(
      (await metricValue('falconer_a2a_requests_total', { skill: 'unknown', outcome: 'unknown_skill' })) >= 1,
    );
    assert.ok((await metricValue('falconer_a2a_requests_total', { skill: '-', outcome: 'malformed' })) >= 1);
    assert.ok((await metricValue('falconer_a2a_requests_total', { skill: '-', outcome: 'too_large' })) >= 1);
    assert.ok(
      (await metricValue('falconer_a2a_requests_total', {
        skill: 'events.query',
        outcome: 'invalid_input',
      })) >= 1,
    );
    // The client maps invalid input to its code.
    const c = await client('coordinator');
    await assert.rejects(
      c.call({
        url: server.url,
        agent: 'detect',
        skill: 'events.query',
        input: { limit: -1 },
        output: EventsQueryOutput,
      }),
      (err: unknown) => isFalconerError(err, 'A2A_INVALID_INPUT'),
    );
  });

  test('idempotency: a retried messageId, and concurrent duplicates, run the handler once', async () => {
    const c = await client('coordinator');
    const before = seen.length;
    const a = await c.call({
      url: server.url,
      agent: 'detect',
      skill: 'events.query',
      input: { limit: 7 },
      output: EventsQueryOutput,
      messageId: 'idem-1',
    });
    const b = await c.call({
      url: server.url,
      agent: 'detect',
      skill: 'events.query',
      input: { limit: 7 },
      output: EventsQueryOutput,
      messageId: 'idem-1',
    });
    assert.deepEqual(a, b);
    assert.equal(seen.length, before + 1);
    assert.equal(
      audit.records
        .filter((r) => r.messageId === 'idem-1')
        .map((r) => r.result)
        .join(','),
      'ok,replayed',
    );
    handlerDelayMs = 100;
    try {
      const results = await Promise.all(
        [1, 2, 3].map(() =>
          c.call({
            url: server.url,
            agent: 'detect',
            skill: 'events.query',
            input: { limit: 9 },
            output: EventsQueryOutput,
            messageId: 'idem-2',
          }),
        ),
      );
      assert.equal(results.length, 3);
    } finally {
      handlerDelayMs = 0;
    }
    assert.equal(seen.length, before + 2);
    // The same messageId from another caller is another call (keys are scoped by caller).
    const other = await client('analyse');
    await other.call({
      url: server.url,
      agent: 'detect',
      skill: 'events.query',
      input: { limit: 7 },
      output: EventsQueryOutput,
      messageId: 'idem-1',
    });
    assert.equal(seen.length, before + 3);
  });

  test('the client refuses a server whose SPIFFE id is not the expected agent', async () => {
    const c = await client('coordinator');
    const before = seen.length;
    await assert.rejects(
      c.call({
        url: server.url,
        agent: 'analyse',
        skill: 'events.query',
        input: {},
        output: EventsQueryOutput,
      }),
      (err: unknown) => isFalconerError(err, 'A2A_PEER_IDENTITY') && /falconer-detect/.test(err.message),
    );
    assert.equal(seen.length, before, 'nothing was sent');
  });

  test('unreachable peer: retried, then A2A_UNAVAILABLE', async () => {
    const c = await client('coordinator', { retry: { attempts: 2 } });
    await assert.rejects(
      c.call({
        url: 'https://127.0.0.1:1',
        agent: 'detect',
        skill: 'events.query',
        input: {},
        output: EventsQueryOutput,
        timeoutMs: 5000,
      }),
      (err: unknown) => isFalconerError(err, 'A2A_UNAVAILABLE'),
    );
  });

  test('curl with --cert/--key/--cacert calls a skill (the README line)', async (t) => {
    const hasCurl = spawnSync('curl', ['--version']).status === 0;
    if (!requireComponent(t, 'curl', hasCurl)) return;
    const f = files('coordinator');
    const body =
      '{"jsonrpc":"2.0","id":1,"method":"SendMessage","params":{"message":{"messageId":"curl-1","role":"ROLE_USER","parts":[{"data":{"skill":"events.query","input":{"limit":5}}}]}}}';
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        [
          '-sS',
          '--cert',
          f.certFile,
          '--key',
          f.keyFile,
          '--cacert',
          f.caFile,
          '-H',
          'A2A-Version: 1.0',
          '-H',
          'Content-Type: application/json',
          '-d',
          body,
          `https://localhost:${server.port}/a2a/jsonrpc`,
        ],
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)),
      ),
    );
    const json = JSON.parse(out) as { result: { message: { parts: Array<{ data: unknown }> } } };
    assert.deepEqual(json.result.message.parts[0]!.data, { output: { events: [], truncated: false } });
  });

  test('certificate rotation: replacing the files (..data symlink swap) serves the new certificate to new connections', async () => {
    const ca: PemPair = {
      certPem: await readFile(pki.caCertFile, 'utf8'),
      keyPem: await readFile(pki.caKeyFile, 'utf8'),
    };
    const fresh = await issueCertificate({
      ca,
      commonName: 'falconer-detect',
      uris: [agentSpiffeId(TD, NS, 'detect')],
      dns: ['localhost'],
      ips: ['127.0.0.1'],
    });
    const oldFingerprint = server.tls.current.fingerprint;
    // A caller connected before the rotation, its connection idle and kept alive.
    const query = queryThrough(await client('coordinator'), 50);
    await query();
    const secret = join(root, 'secret');
    await mkdir(join(secret, '..v2'));
    await writeFile(join(secret, '..v2', 'tls.crt'), fresh.certPem);
    await writeFile(join(secret, '..v2', 'tls.key'), fresh.keyPem, { mode: 0o600 });
    await writeFile(join(secret, '..v2', 'ca.crt'), ca.certPem);
    await symlink('..v2', join(secret, '..data_tmp'));
    await rename(join(secret, '..data_tmp'), join(secret, '..data'));
    const d = await read('coordinator');
    const peerFingerprint = () =>
      new Promise<string>((resolve, reject) => {
        const s = connect(
          {
            host: '127.0.0.1',
            port: server.port,
            cert: d.cert,
            key: d.key,
            ca: d.ca,
            servername: 'localhost',
          },
          () => {
            const fp = s.getPeerX509Certificate()?.fingerprint256 ?? '';
            s.end();
            resolve(fp);
          },
        );
        s.on('error', reject);
      });
    const deadline = Date.now() + 5000;
    let fp = await peerFingerprint();
    while (fp === oldFingerprint && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      fp = await peerFingerprint();
    }
    assert.notEqual(fp, oldFingerprint);
    assert.equal(fp, server.tls.current.fingerprint);
    // Its connection predates the new files: it was closed, and the next call handshakes again.
    await new Promise((r) => setTimeout(r, 100)); // the server sees the last probe's handshake after the probe does
    assert.equal(await handshakesDuring(query), 1);
    // And calls still work on the new certificate.
    const c = await client('coordinator');
    const out = await c.call({
      url: server.url,
      agent: 'detect',
      skill: 'events.query',
      input: { limit: 50 },
      output: EventsQueryOutput,
    });
    assert.equal(out.truncated, false);
  });
});

describe('ops server', () => {
  test('/healthz, /readyz follows ready(), /metrics is Prometheus text', async () => {
    let ready = false;
    const reg = new Registry();
    reg.setDefaultLabels({ agent: 'detect' });
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: reg, ready: () => ready });
    try {
      assert.equal((await undiciFetch(`${ops.url}/healthz`)).status, 200);
      assert.equal((await undiciFetch(`${ops.url}/readyz`)).status, 503);
      ready = true;
      assert.equal((await undiciFetch(`${ops.url}/readyz`)).status, 200);
      const m = await undiciFetch(`${ops.url}/metrics`);
      assert.equal(m.status, 200);
      assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
      assert.equal((await undiciFetch(`${ops.url}/nope`)).status, 404);
    } finally {
      await ops.close();
    }
  });
});
