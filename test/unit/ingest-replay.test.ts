import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { FalconerError } from '../../src/errors.ts';
import { replayStream, type ReplayTarget, type SendResult } from '../../src/ingest/replay.ts';
import { progressLine, summaryText } from '../../src/cli/replay-output.ts';
import { terminalShellAlert } from '../support/falco-alerts.ts';

const good = (i: number): string => JSON.stringify(terminalShellAlert({ output: `event ${i}` }));

/** A target that records batches and answers from a script (then 'done' for everything). */
function scriptedTarget(
  script: ((lines: readonly number[]) => SendResult)[] = [],
): ReplayTarget & { batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    async send(batch, lines) {
      assert.equal(batch.toString().split('\n').length - 1, lines.length, 'one NDJSON line per event');
      batches.push([...lines]);
      const next = script.shift();
      return next ? next(lines) : { kind: 'done', accepted: lines.length, rejectedCount: 0, rejected: [] };
    },
  };
}

const noSleep = { sleep: async () => undefined };

test('batches good lines, names every bad line, counts blank lines', async () => {
  const text = [good(1), '', '{nope', good(2), good(3), '"just a string"', good(4), good(5)].join('\n');
  const target = scriptedTarget();
  const s = await replayStream(Readable.from([text]), target, { batch: 2, ...noSleep });
  assert.deepEqual(target.batches, [[1, 4], [5, 7], [8]]);
  assert.equal(s.lines, 8);
  assert.equal(s.events, 7);
  assert.equal(s.sent, 5);
  assert.equal(s.accepted, 5);
  assert.equal(s.rejected, 2);
  assert.deepEqual(
    s.rejections.map((r) => [r.line, r.code]),
    [
      [3, 'EVENT_INVALID_JSON'],
      [6, 'EVENT_SCHEMA'],
    ],
  );
  assert.equal(s.bytes, Buffer.byteLength(text));
  assert.equal(s.unsent, 0);
  assert.match(summaryText(s), /line 3: \[EVENT_INVALID_JSON\]/);
});

test('429/503 are retried after Retry-After; the batch is not lost', async () => {
  const waits: number[] = [];
  const target = scriptedTarget([
    () => ({ kind: 'retry', retryAfterSeconds: 2, reason: 'rate limit' }),
    () => ({ kind: 'retry', retryAfterSeconds: 1, reason: 'pipeline full' }),
  ]);
  const s = await replayStream(Readable.from([`${good(1)}\n${good(2)}\n`]), target, {
    sleep: async (ms) => void waits.push(ms),
  });
  assert.deepEqual(waits, [2000, 1000]);
  assert.equal(s.retries, 2);
  assert.equal(s.accepted, 2);
  assert.equal(target.batches.length, 3);
});

test('after the bounded retries, the lines are counted as rejected by name', async () => {
  const always = (): SendResult => ({ kind: 'retry', retryAfterSeconds: 1, reason: 'rate limit' });
  const target = scriptedTarget(Array.from({ length: 10 }, () => always));
  const s = await replayStream(Readable.from([`${good(1)}\n${good(2)}\n`]), target, {
    maxRetries: 3,
    ...noSleep,
  });
  assert.equal(target.batches.length, 4);
  assert.equal(s.accepted, 0);
  assert.equal(s.rejected, 2);
  assert.deepEqual(
    s.rejections.map((r) => [r.line, r.code]),
    [
      [1, 'REPLAY_GAVE_UP'],
      [2, 'REPLAY_GAVE_UP'],
    ],
  );
});

test('a batch that is too large is split; server-side rejections map to file lines', async () => {
  const target = scriptedTarget([
    () => ({ kind: 'too-large', reason: 'body too large' }),
    (lines) => ({
      kind: 'done',
      accepted: 1,
      rejectedCount: 1,
      rejected: [{ line: lines[1]!, code: 'EVENT_SCHEMA', reason: 'x' }],
    }),
  ]);
  const s = await replayStream(
    Readable.from([[good(1), good(2), good(3), good(4)].join('\n')]),
    target,
    noSleep,
  );
  assert.deepEqual(target.batches, [
    [1, 2, 3, 4],
    [1, 2],
    [3, 4],
  ]);
  assert.equal(s.accepted, 3);
  assert.equal(s.rejected, 1);
  assert.deepEqual(s.rejections, [{ line: 2, code: 'EVENT_SCHEMA', reason: 'x' }]);
});

test('an unreachable target stops the replay and says how much was not sent', async () => {
  const target: ReplayTarget = {
    async send() {
      throw new FalconerError('IO_ERROR', 'cannot reach http://127.0.0.1:9');
    },
  };
  const s = await replayStream(Readable.from([`${good(1)}\n${good(2)}\n{bad\n`]), target, {
    batch: 10,
    ...noSleep,
  });
  assert.match(s.aborted ?? '', /IO_ERROR: cannot reach/);
  assert.equal(s.unsent, 2);
  assert.equal(s.accepted, 0);
  assert.match(summaryText(s), /ABORTED/);
});

test('pacing: --rate spreads batches over time', async () => {
  let clock = 0;
  const waits: number[] = [];
  const lines = Array.from({ length: 6 }, (_, i) => good(i)).join('\n');
  await replayStream(Readable.from([lines]), scriptedTarget(), {
    batch: 2,
    rate: 4,
    now: () => clock,
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
  });
  assert.deepEqual(waits, [500, 500, 500]);
});

test('the rejection list keeps the first lines and the count stays complete', async () => {
  const text = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? '{bad' : good(i))).join('\n');
  const s = await replayStream(Readable.from([text]), scriptedTarget(), {
    maxRejectionsListed: 5,
    ...noSleep,
  });
  assert.equal(s.rejected, 25);
  assert.deepEqual(
    s.rejections.map((r) => r.line),
    [1, 3, 5, 7, 9],
  );
  assert.match(summaryText(s), /first 5 of 25/);
});

test('progress line: with a known size it shows a bar', () => {
  const line = progressLine(
    { lines: 500, bytes: 50, sent: 400, accepted: 390, rejected: 10, retries: 0, seconds: 2 },
    100,
  );
  assert.match(
    line,
    /^\[#{12}-{12}\] {2}50% 500 lines {2}250 lines\/s {2}sent 400 {2}accepted 390 {2}rejected 10$/,
  );
});

test('concurrency: up to N batches in flight, every line accounted once', async () => {
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  const target: ReplayTarget = {
    async send(_batch, lines) {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later batches answer sooner: completions come out of order.
      await new Promise((r) => setTimeout(r, 20 - (lines[0]! % 4) * 5));
      seen.push(...lines);
      inFlight--;
      return { kind: 'done', accepted: lines.length, rejectedCount: 0, rejected: [] };
    },
  };
  const text = Array.from({ length: 40 }, (_, i) => good(i)).join('\n');
  const s = await replayStream(Readable.from([text]), target, { batch: 2, concurrency: 3 });
  assert.equal(most, 3);
  assert.equal(s.accepted, 40);
  assert.equal(s.sent, 40);
  assert.equal(s.unsent, 0);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
});

test('concurrency: a failing batch stops the replay once the others in flight finished', async () => {
  let calls = 0;
  const target: ReplayTarget = {
    async send(_batch, lines) {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      if (lines.includes(5)) throw new FalconerError('IO_ERROR', 'connection reset');
      return { kind: 'done', accepted: lines.length, rejectedCount: 0, rejected: [] };
    },
  };
  const text = Array.from({ length: 20 }, (_, i) => good(i)).join('\n');
  const s = await replayStream(Readable.from([text]), target, { batch: 2, concurrency: 2 });
  assert.match(s.aborted ?? '', /IO_ERROR: connection reset/);
  // Every line read is accepted (the batches in flight beside the failed one finish) or unsent (the failed one).
  assert.equal(s.accepted + s.unsent, s.events);
  assert.equal(s.unsent, 2);
  assert.equal(s.accepted, (calls - 1) * 2);
  assert.ok(s.events < 20, 'reading stopped at the failure');
  assert.equal(s.rejected, 0);
});
