/**
 * The HTTP ingest on a real socket: the real Falco alerts posted the way Falco's
 * http_output and falcosidekick's webhook post them, NDJSON batches, compressed
 * bodies, every bad case with its status, reason and metric, and `falconer
 * replay` end to end.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { normalizeAlert } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { createHttpTarget } from '../../src/ingest/http-target.ts';
import { replayStream } from '../../src/ingest/replay.ts';
import { createIngestServer } from '../../src/ingest/server.ts';
import type { IngestLimits, IngestSinkResult } from '../../src/ingest/types.ts';
import { createReadStream } from 'node:fs';
import { PROJECT_ROOT } from '../support/paths.ts';
import { execPodAuditAlert, realAlertLines, terminalShellAlert } from '../support/falco-alerts.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: {
    accepted: number;
    rejected: number;
    errors: { line?: number; code: string; reason: string; path?: string }[];
  } & Record<string, unknown>;
  raw: string;
}

function call(
  port: number,
  opts: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    chunked?: boolean;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (body !== undefined && !opts.chunked) headers['content-length'] = body.length;
    const req = request(
      { host: '127.0.0.1', port, method: opts.method ?? 'POST', path: opts.path ?? '/events', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString();
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw);
          } catch {
            parsed = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as Reply['body'], raw });
        });
      },
    );
    // The server may answer and close before the whole body is written (limits): that is the point.
    req.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
    );
    if (body !== undefined) {
      if (opts.chunked) {
        for (let i = 0; i < body.length; i += 16 * 1024) req.write(body.subarray(i, i + 16 * 1024));
      } else req.write(body);
    }
    req.end();
  });
}

/** Runs the CLI without blocking this process's event loop (the server under test lives here). */
function runCli(
  args: string[],
  input?: string,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'falconer.js'), ...args], {
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

const json = { 'content-type': 'application/json' };
const ndjson = { 'content-type': 'application/x-ndjson' };

async function startServer(
  t: TestContext,
  opts: {
    limits?: Partial<IngestLimits>;
    sink?: (e: NormalizedEvent[]) => IngestSinkResult;
    cluster?: string;
  } = {},
) {
  const received: NormalizedEvent[] = [];
  const registry = new Registry();
  const ingest = createIngestServer({
    sink: opts.sink ?? ((events) => (received.push(...events), { accepted: true })),
    registry,
    limits: opts.limits,
    ...(opts.cluster !== undefined && { cluster: opts.cluster }),
  });
  const { port } = await ingest.listen(0);
  t.after(() => ingest.close());
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  };
  return { port, received, registry, metric };
}

test('the real alerts, posted one per request as Falco http_output does, are accepted unchanged', async (t) => {
  const { port, received, metric } = await startServer(t);
  const lines = realAlertLines();
  for (const { text } of lines) {
    const r = await call(port, {
      path: '/',
      body: text,
      headers: { ...json, 'user-agent': 'falcosecurity/falco' },
    });
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(r.body, { accepted: 1, rejected: 0, errors: [] });
  }
  assert.equal(received.length, lines.length);
  received.forEach((e, i) => assert.equal(e.id, normalizeAlert(JSON.parse(lines[i]!.text)).id));
  assert.equal(await metric('falconer_events_received_total'), lines.length);
  assert.equal(await metric('falconer_events_accepted_total'), lines.length);
  assert.equal(await metric('falconer_ingest_requests_total', { status: '200' }), lines.length);
});

test('falcosidekick webhook payloads (uuid, customfields, Go time) are accepted; the cluster customfield is used', async (t) => {
  const { port, received } = await startServer(t, { cluster: 'fallback' });
  const payload = {
    ...terminalShellAlert(),
    uuid: '2e9f1a3c-2f7e-4b8a-9c55-0e0c7d3f2a61',
    time: '2024-05-14T09:21:44.1234567Z',
    output_fields: { ...(terminalShellAlert().output_fields as object), cluster: 'prod-eu' },
  };
  const r = await call(port, {
    body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json;charset=utf-8', 'user-agent': 'Falcosidekick' },
  });
  assert.equal(r.status, 200, r.raw);
  assert.equal(received[0]?.workload.key, 'pod:prod-eu/shop/web-7c5ddbdf54-x2x9k');
  assert.equal(received[0]?.timeMs, Date.UTC(2024, 4, 14, 9, 21, 44, 123));
  const audit = await call(port, { body: JSON.stringify(execPodAuditAlert()), headers: json });
  assert.equal(audit.status, 200, audit.raw);
  assert.equal(received[1]?.workload.key, 'pod:fallback/payments/payments-api-6d9f7b7c9d-kq2lm');
});

test('NDJSON batches, gzip, deflate (zlib and raw) and brotli bodies', async (t) => {
  const { port, received, metric } = await startServer(t);
  const text = `${realAlertLines()
    .map((l) => l.text)
    .join('\r\n')}\r\n`;
  const n = realAlertLines().length;
  assert.equal((await call(port, { body: text, headers: ndjson })).status, 200);
  const gz = await call(port, { body: gzipSync(text), headers: { ...ndjson, 'content-encoding': 'gzip' } });
  assert.deepEqual([gz.status, gz.body.accepted], [200, n]);
  const single = realAlertLines()[0]!.text;
  for (const [encoding, body] of [
    ['deflate', deflateSync(single)],
    ['deflate', (await import('node:zlib')).deflateRawSync(single)],
    ['br', brotliCompressSync(single)],
  ] as const) {
    const r = await call(port, { body, headers: { ...json, 'content-encoding': encoding } });
    assert.equal(r.status, 200, `${encoding}: ${r.raw}`);
  }
  assert.equal(received.length, 2 * n + 3);
  assert.ok((await metric('falconer_ingest_decompressed_bytes_total')) > text.length);
});

test('bad input: each case gets its status, a precise reason, and is counted', async (t) => {
  const limits = { maxBodyBytes: 256 * 1024, maxEventBytes: 8 * 1024 };
  const { port, received, metric } = await startServer(t, { limits });
  const alert = terminalShellAlert();

  const malformed = await call(port, { body: '{"rule": "x",', headers: json });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.errors[0]?.code, 'EVENT_INVALID_JSON');

  const wrongType = await call(port, {
    body: JSON.stringify({ ...alert, output_fields: { 'proc.pid': { x: 1 } } }),
    headers: json,
  });
  assert.equal(wrongType.status, 400);
  assert.deepEqual(
    [wrongType.body.errors[0]?.code, wrongType.body.errors[0]?.path],
    ['EVENT_SCHEMA', 'output_fields["proc.pid"]'],
  );

  const { rule: _r, ...noRule } = alert;
  const missing = await call(port, { body: JSON.stringify(noRule), headers: json });
  assert.equal(missing.status, 400);
  assert.equal(missing.body.errors[0]?.path, 'rule');
  assert.match(missing.body.errors[0]!.reason, /required field missing/);

  const badPriority = await call(port, {
    body: JSON.stringify({ ...alert, priority: 'x'.repeat(5000) }),
    headers: json,
  });
  assert.equal(badPriority.status, 400);
  assert.ok(badPriority.raw.length < 600, 'no attacker text echoed at length');

  const bigEvent = await call(port, {
    body: JSON.stringify({ ...alert, output: 'A'.repeat(10_000) }),
    headers: json,
  });
  assert.equal(bigEvent.status, 413);
  assert.equal(bigEvent.body.errors[0]?.code, 'EVENT_TOO_LARGE');
  assert.ok(bigEvent.raw.length < 600);

  const invalidUtf8 = await call(port, {
    body: Buffer.concat([Buffer.from('{"rule":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    headers: json,
  });
  assert.equal(invalidUtf8.status, 400);
  assert.deepEqual(
    [invalidUtf8.body.errors[0]?.code, invalidUtf8.body.errors[0]?.reason],
    ['EVENT_INVALID_UTF8', 'invalid UTF-8 at byte 9'],
  );

  const bigBody = Buffer.from(`${JSON.stringify(alert)}\n`.repeat(300)); // ~300 KiB > 256 KiB
  const declared = await call(port, { body: bigBody, headers: ndjson });
  assert.equal(declared.status, 413);
  assert.equal(declared.body.errors[0]?.code, 'INGEST_BODY_TOO_LARGE');
  const streamed = await call(port, {
    body: bigBody,
    headers: { ...ndjson, 'transfer-encoding': 'chunked' },
    chunked: true,
  });
  assert.equal(streamed.status, 413, 'counted while streaming, without Content-Length');

  const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces in ~50 KiB
  assert.ok(bomb.length < limits.maxBodyBytes);
  const bombed = await call(port, { body: bomb, headers: { ...ndjson, 'content-encoding': 'gzip' } });
  assert.equal(bombed.status, 413);
  assert.match(bombed.body.errors[0]!.reason, /decompressed request body exceeds the limit of 262144 bytes/);

  const corrupt = await call(port, {
    body: Buffer.from('not gzip at all'),
    headers: { ...json, 'content-encoding': 'gzip' },
  });
  assert.equal(corrupt.status, 400);
  assert.equal(corrupt.body.errors[0]?.code, 'INGEST_BAD_ENCODING');

  const textPlain = await call(port, {
    body: 'Warning An open was seen',
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(textPlain.status, 415);
  assert.match(textPlain.body.errors[0]!.reason, /json_output: true/);
  assert.equal(
    (await call(port, { body: '{}', headers: { ...json, 'content-encoding': 'zstd' } })).status,
    415,
  );
  assert.equal((await call(port, { body: '{}', headers: {} })).status, 415);

  // NDJSON: good lines accepted, bad ones listed by line number.
  const mixed = [
    JSON.stringify(alert),
    '{oops',
    '',
    JSON.stringify({ ...alert, time: 'now' }),
    JSON.stringify(alert),
    'x'.repeat(9000),
  ].join('\n');
  const multi = await call(port, { body: mixed, headers: ndjson });
  assert.equal(multi.status, 207);
  assert.equal(multi.body.accepted, 2);
  assert.equal(multi.body.rejected, 3);
  assert.deepEqual(
    multi.body.errors.map((e) => [e.line, e.code]),
    [
      [2, 'EVENT_INVALID_JSON'],
      [4, 'EVENT_SCHEMA'],
      [6, 'EVENT_TOO_LARGE'],
    ],
  );
  const allBad = await call(port, { body: '{oops\n[1]\n', headers: ndjson });
  assert.equal(allBad.status, 400);
  assert.equal(allBad.body.rejected, 2);

  assert.equal(received.length, 2);
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'invalid_json' }), 3);
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'schema' }), 5);
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'too_large' }), 2);
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'invalid_utf8' }), 1);
  assert.equal(await metric('falconer_ingest_requests_total', { status: '413' }), 4);
  assert.equal(await metric('falconer_ingest_requests_total', { status: '415' }), 3);
  assert.equal(await metric('falconer_ingest_requests_total', { status: '207' }), 1);
});

test('the error list is capped while the counts stay complete', async (t) => {
  const { port } = await startServer(t, { limits: { maxErrorsListed: 3 } });
  const r = await call(port, { body: Array.from({ length: 10 }, () => '{bad').join('\n'), headers: ndjson });
  assert.equal(r.status, 400);
  assert.equal(r.body.rejected, 10);
  assert.equal(r.body.errors.length, 3);
  assert.equal(r.body.errorsTruncated, true);
});

test('a flood is answered with 429 and Retry-After, and the refused events are counted', async (t) => {
  const rateLimit = { eventsPerSecond: 1, burst: 5, perClientEventsPerSecond: 1, perClientBurst: 5 };
  const { port, received, metric } = await startServer(t, { limits: { rateLimit } });
  const body = JSON.stringify(terminalShellAlert());
  const tooBig = await call(port, { body: `${body}\n`.repeat(6), headers: ndjson });
  assert.equal(tooBig.status, 413, 'a batch over the burst can never pass: told to split');
  assert.match(tooBig.body.errors[0]!.reason, /exceeds the rate limit burst of 5/);
  const statuses: number[] = [];
  let retryAfter: string | string[] | undefined;
  for (let i = 0; i < 12; i++) {
    const r = await call(port, { body, headers: json });
    statuses.push(r.status);
    if (r.status === 429) {
      retryAfter = r.headers['retry-after'];
      assert.equal(r.body.errors[0]?.code, 'INGEST_RATE_LIMITED');
    }
  }
  assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  assert.ok(
    statuses.slice(5).every((s) => s === 429),
    statuses.join(','),
  );
  assert.ok(Number(retryAfter) >= 1);
  assert.ok(received.length <= 6);
  const refused = statuses.filter((s) => s === 429).length;
  assert.ok(refused >= 6);
  assert.equal(await metric('falconer_ingest_requests_total', { status: '429' }), refused);
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'rate_limited' }), refused + 6);
  const batch = await call(port, { body: `${body}\n\n${body}\n`, headers: ndjson });
  assert.deepEqual([batch.status, batch.body.rejected], [429, 2]);
});

test('backpressure: a full sink gives 503 with Retry-After and nothing is counted as accepted', async (t) => {
  const { port, metric } = await startServer(t, {
    sink: () => ({ accepted: false, retryAfterSeconds: 2.2 }),
  });
  const r = await call(port, { body: JSON.stringify(terminalShellAlert()), headers: json });
  assert.equal(r.status, 503);
  assert.equal(r.headers['retry-after'], '3');
  assert.equal(r.body.errors[0]?.code, 'INGEST_BACKPRESSURE');
  assert.equal(await metric('falconer_events_rejected_total', { reason: 'backpressure' }), 1);
  assert.equal(await metric('falconer_events_accepted_total'), 0);
});

test('routes: 404, 405 with Allow, /healthz, /metrics', async (t) => {
  const { port } = await startServer(t);
  assert.equal((await call(port, { path: '/nope', body: '{}', headers: json })).status, 404);
  const get = await call(port, { method: 'GET', path: '/events' });
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'POST');
  const health = await call(port, { method: 'GET', path: '/healthz' });
  assert.deepEqual([health.status, health.body.status], [200, 'ok']);
  const metrics = await call(port, { method: 'GET', path: '/metrics' });
  assert.equal(metrics.status, 200);
  assert.match(metrics.raw, /falconer_ingest_requests_total\{status="404"\} 1/);
  assert.match(metrics.raw, /falconer_ingest_requests_total\{status="405"\} 1/);
});

test('replay end to end: good lines accepted, bad lines named by number, also through the CLI', async (t) => {
  const { port, received } = await startServer(t);
  const dir = mkdtempSync(join(tmpdir(), 'falconer-replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const real = realAlertLines().map((l) => l.text);
  const file = join(dir, 'mixed.ndjson');
  const lines = [
    real[0],
    real[1],
    '',
    '{"rule":',
    real[2],
    JSON.stringify({ ...terminalShellAlert(), priority: 'Severe' }),
    real[3],
    'x'.repeat(70 * 1024),
    real[4],
  ];
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from(`${lines.join('\n')}\n`),
      Buffer.from([0xff, 0x0a]),
      Buffer.from(`${real[5]}\n`),
    ]),
  );

  const summary = await replayStream(
    createReadStream(file),
    createHttpTarget({ url: `http://127.0.0.1:${port}/events` }),
    { batch: 2 },
  );
  assert.equal(summary.lines, 11);
  assert.equal(summary.events, 10);
  assert.equal(summary.accepted, 6);
  assert.equal(summary.sent, 6);
  assert.deepEqual(
    summary.rejections.map((r) => [r.line, r.code]),
    [
      [4, 'EVENT_INVALID_JSON'],
      [6, 'EVENT_SCHEMA'],
      [8, 'EVENT_TOO_LARGE'],
      [10, 'EVENT_INVALID_UTF8'],
    ],
  );
  assert.equal(received.length, 6);

  const cli = await runCli(['replay', file, '--url', `http://127.0.0.1:${port}/events`, '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  const fromCli = JSON.parse(cli.stdout) as typeof summary;
  assert.equal(fromCli.accepted, 6);
  assert.deepEqual(
    fromCli.rejections.map((r) => r.line),
    [4, 6, 8, 10],
  );
  assert.equal(received.length, 12);

  const stdin = await runCli(
    ['replay', '-', '--url', `http://127.0.0.1:${port}/events`],
    `${real[0]}\nnope\n`,
  );
  assert.equal(stdin.status, 0, stdin.stderr);
  assert.match(stdin.stdout, /accepted {3}1/);
  assert.match(stdin.stdout, /line 2: \[EVENT_INVALID_JSON\]/);
});
