import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  childTraceContext,
  formatTraceparent,
  newTraceContext,
  parseTraceparent,
  startSpan,
} from '../../src/telemetry/tracing.ts';
import { canonicalJson, inputDigest } from '../../src/a2a/canonical.ts';
import { MemoryIdempotencyStore } from '../../src/a2a/idempotency.ts';

test('traceparent: parse, format, child, invalid values', () => {
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const ctx = parseTraceparent(tp);
  assert.deepEqual(ctx, {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    flags: 1,
  });
  assert.equal(formatTraceparent(ctx!), tp);
  const child = childTraceContext(ctx!);
  assert.equal(child.traceId, ctx!.traceId);
  assert.notEqual(child.spanId, ctx!.spanId);
  for (const bad of [
    '',
    'garbage',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    42,
  ]) {
    assert.equal(parseTraceparent(bad), undefined, String(bad));
  }
  // A future version may append fields.
  assert.ok(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc'));
  assert.match(formatTraceparent(newTraceContext()), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});

test('spans continue the incoming trace, or start one when the parent is invalid', () => {
  const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const s = startSpan('x', { parent, kind: 'server' });
  assert.equal(s.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.notEqual(parseTraceparent(s.traceparent)!.spanId, '00f067aa0ba902b7');
  s.end();
  const fresh = startSpan('y', { parent: 'not-a-traceparent' });
  assert.notEqual(fresh.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.ok(parseTraceparent(fresh.traceparent));
  fresh.end();
});

test('canonical JSON digests ignore key order', () => {
  assert.equal(canonicalJson({ b: 1, a: [2, { d: null, c: 'x' }] }), '{"a":[2,{"c":"x","d":null}],"b":1}');
  assert.equal(inputDigest({ a: 1, b: 2 }), inputDigest({ b: 2, a: 1 }));
  assert.notEqual(inputDigest({ a: 1 }), inputDigest({ a: '1' }));
  assert.match(inputDigest(undefined), /^[0-9a-f]{64}$/);
});

test('the in-memory idempotency store is bounded and expires entries', async () => {
  let now = 0;
  const store = new MemoryIdempotencyStore(3, 1000, () => now);
  for (const k of ['a', 'b', 'c', 'd']) await store.put(k, 's', { k });
  assert.equal(store.size, 3);
  assert.equal(await store.get('a'), undefined);
  assert.deepEqual(await store.get('d'), { skill: 's', output: { k: 'd' } });
  now = 2000;
  assert.equal(await store.get('d'), undefined);
});
