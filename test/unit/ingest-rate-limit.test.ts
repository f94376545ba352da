import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, TokenBucket } from '../../src/ingest/rate-limit.ts';
import { bodyKind, contentEncoding } from '../../src/ingest/content.ts';
import { isFalconerError } from '../../src/errors.ts';

test('token bucket: starts full, refills at its rate, never above capacity', () => {
  const b = new TokenBucket(10, 20, 0);
  assert.equal(b.tokens(0), 20);
  b.take(20, 0);
  assert.equal(b.tokens(0), 0);
  assert.equal(b.waitSeconds(5, 0), 0.5);
  assert.equal(b.tokens(1000), 10);
  assert.equal(b.tokens(60_000), 20);
  b.give(5, 60_000);
  assert.equal(b.tokens(60_000), 20);
});

test('rate limiter: global and per-client buckets, all-or-nothing, Retry-After rounded up', () => {
  const rl = new RateLimiter(
    { eventsPerSecond: 100, burst: 60, perClientEventsPerSecond: 10, perClientBurst: 30 },
    0,
  );
  assert.equal(rl.maxBatch, 30);
  assert.deepEqual(rl.take('a', 30, 0), { ok: true });
  const refused = rl.take('a', 1, 0);
  assert.deepEqual(refused, { ok: false, retryAfterSeconds: 1, scope: 'client' });
  assert.deepEqual(rl.take('b', 30, 0), { ok: true }, 'another client has its own bucket');
  assert.deepEqual(rl.take('a', 25, 0), { ok: false, retryAfterSeconds: 3, scope: 'client' });
  assert.deepEqual(rl.take('a', 10, 1000), { ok: true }, 'refilled after a second');
  // Drain the global bucket through many clients.
  for (let i = 0; i < 3; i++) assert.deepEqual(rl.take(`c${i}`, 10, 1000), { ok: true });
  rl.take('d', 20, 1000);
  const global = rl.take('e', 20, 1000);
  assert.equal(global.ok, false);
  assert.equal(!global.ok && global.scope, 'global');
  rl.refund('e', 20, 1000);
});

test('rate limiter: tracked clients are capped (oldest forgotten), so memory stays bounded', () => {
  const rl = new RateLimiter(
    { eventsPerSecond: 1e9, burst: 1e9, perClientEventsPerSecond: 1, perClientBurst: 1, maxClients: 2 },
    0,
  );
  assert.equal(rl.take('a', 1, 0).ok, true);
  assert.equal(rl.take('a', 1, 0).ok, false);
  rl.take('b', 1, 0);
  rl.take('c', 1, 0); // evicts a
  assert.equal(rl.take('a', 1, 0).ok, true, 'a was forgotten, so it starts with a full bucket');
});

test('content types and encodings', () => {
  assert.equal(bodyKind('application/json'), 'json');
  assert.equal(bodyKind('Application/JSON; charset=UTF-8'), 'json');
  assert.equal(bodyKind('application/x-ndjson'), 'ndjson');
  assert.equal(bodyKind('application/jsonl'), 'ndjson');
  for (const bad of [
    undefined,
    '',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
  ]) {
    assert.throws(
      () => bodyKind(bad),
      (e) => isFalconerError(e, 'INGEST_UNSUPPORTED_MEDIA_TYPE'),
    );
  }
  assert.match(
    (() => {
      try {
        bodyKind('text/plain');
      } catch (e) {
        return String(e);
      }
      return '';
    })(),
    /json_output: true/,
  );
  assert.equal(contentEncoding(undefined), 'identity');
  assert.equal(contentEncoding('GZIP'), 'gzip');
  assert.equal(contentEncoding('x-gzip'), 'gzip');
  assert.equal(contentEncoding('deflate'), 'deflate');
  assert.equal(contentEncoding('br'), 'br');
  assert.throws(
    () => contentEncoding('zstd'),
    (e) => isFalconerError(e, 'INGEST_UNSUPPORTED_MEDIA_TYPE'),
  );
  assert.throws(
    () => contentEncoding('gzip, gzip'),
    (e) => isFalconerError(e, 'INGEST_UNSUPPORTED_MEDIA_TYPE'),
  );
});
