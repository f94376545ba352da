import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initTracing, startSpan } from '../../src/telemetry/tracing.ts';

test('spans go to the OTLP/HTTP endpoint when one is set, under the incoming trace', async () => {
  const bodies: Array<{ path: string; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handle = await initTracing({ serviceName: 'falconer-test', endpoint });
  try {
    assert.equal(handle.enabled, true);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const span = startSpan('a2a.server events.query', {
      parent: `00-${traceId}-00f067aa0ba902b7-01`,
      kind: 'server',
    });
    assert.equal(span.traceId, traceId);
    span.end();
  } finally {
    await handle.shutdown();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.equal(bodies.length >= 1, true, 'the exporter posted');
  assert.equal(bodies[0]!.path, '/v1/traces');
  assert.match(bodies[0]!.body, /a2a\.server events\.query/);
  assert.match(bodies[0]!.body, /falconer-test/);
  // Without an endpoint nothing is installed.
  assert.equal((await initTracing({ serviceName: 'x', endpoint: '' })).enabled, false);
});
