import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SignalReportInput } from '../contracts.ts';
import { SignalOutbox, type OutboxMessage } from './signal-outbox.ts';

function report(id: string, kind: 'opened' | 'updated', count: number): SignalReportInput {
  return {
    kind,
    signal: {
      id,
      workload: { key: `pod:ns/${id}`, kind: 'pod', host: 'node-1', namespace: 'ns', pod: id },
      firstSeenMs: 0,
      lastSeenMs: count,
      eventIds: [],
      maxScore: 0.7,
      rules: ['Terminal shell in container'],
      priorityLevel: 5,
      count,
    },
    events: [],
  };
}

const traceparentFor = (id: string) => `00-${id.padEnd(32, '0')}-00f067aa0ba902b7-01`;

/** An outbox that records what it sends, with the given update interval. */
function recordingOutbox(updateIntervalMs: number): { outbox: SignalOutbox; sent: OutboxMessage[] } {
  const sent: OutboxMessage[] = [];
  const outbox = new SignalOutbox({
    send: async (m) => {
      sent.push(m);
    },
    traceparentFor,
    updateIntervalMs,
  });
  return { outbox, sent };
}

test('opened reports go out at once; updates are coalesced to the newest', async () => {
  const { outbox, sent } = recordingOutbox(50);
  outbox.push(report('a', 'opened', 1));
  for (let i = 2; i <= 20; i++) outbox.push(report('a', 'updated', i));
  await outbox.flush();
  assert.equal(sent[0]?.report.kind, 'opened');
  assert.equal(sent.at(-1)?.report.signal.count, 20);
  assert.ok(sent.length <= 3, `coalesced into ${sent.length} sends`);
  assert.equal(new Set(sent.map((m) => m.messageId)).size, sent.length);
  assert.equal(sent[0]?.traceparent, traceparentFor('a'));
});

test('an update with a new rule or a more urgent priority goes out at once; more of the same waits', async () => {
  const sent: { at: number; m: OutboxMessage }[] = [];
  const outbox = new SignalOutbox({
    send: async (m) => {
      sent.push({ at: Date.now(), m });
    },
    traceparentFor,
    updateIntervalMs: 10_000,
  });
  const with_ = (count: number, rules: string[], priorityLevel: number): SignalReportInput => {
    const r = report('s', 'updated', count);
    return { ...r, signal: { ...r.signal, rules, priorityLevel } };
  };
  outbox.push(report('s', 'opened', 1));
  await outbox.flush();
  const started = Date.now();
  // The next stage of an attack: a rule the coordinator has not seen for this signal.
  outbox.push(with_(2, ['Terminal shell in container', 'Read sensitive file untrusted'], 5));
  await outbox.flush();
  // A more urgent priority (a lower Falco level) with the same rules.
  outbox.push(with_(3, ['Terminal shell in container', 'Read sensitive file untrusted'], 3));
  await outbox.flush();
  assert.deepEqual(
    sent.map((x) => x.m.report.signal.count),
    [1, 2, 3],
  );
  assert.ok(Date.now() - started < 5_000, 'neither waited for the 10 s update interval');
  // More of the same (rules and priority already sent): coalesced, due only after the interval.
  outbox.push(with_(4, ['Terminal shell in container'], 5));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sent.length, 3);
  assert.equal(outbox.depth, 1);
  await outbox.close();
});

test('an update with a new behaviour (the same rule from another process) goes out at once', async () => {
  const { outbox, sent } = recordingOutbox(10_000);
  const with_ = (count: number, behaviours: string[]): SignalReportInput => {
    const r = report('b', count === 1 ? 'opened' : 'updated', count);
    return { ...r, signal: { ...r.signal, behaviours } };
  };
  const shell = '["Terminal shell in container","bash","nginx"]';
  outbox.push(with_(1, [shell]));
  await outbox.flush();
  const started = Date.now();
  outbox.push(with_(2, [shell, '["Terminal shell in container","bash","python3"]']));
  await outbox.flush();
  assert.deepEqual(
    sent.map((m) => m.report.signal.count),
    [1, 2],
  );
  assert.ok(Date.now() - started < 5_000, 'did not wait for the 10 s update interval');
  outbox.push(with_(3, [shell, '["Terminal shell in container","bash","python3"]']));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sent.length, 2, 'more of the same waits');
  await outbox.close();
});

test('a failing coordinator is retried with the same message id until it answers', async () => {
  const attempts: string[] = [];
  let failuresLeft = 3;
  const outbox = new SignalOutbox({
    send: async (m) => {
      attempts.push(m.messageId);
      if (failuresLeft-- > 0) throw new Error('connection refused');
    },
    traceparentFor,
    retryInitialMs: 5,
  });
  outbox.push(report('b', 'opened', 1));
  await outbox.flush();
  assert.equal(attempts.length, 4);
  assert.equal(new Set(attempts).size, 1);
  assert.equal(outbox.failures, 3);
  assert.equal(outbox.depth, 0);
});

test('an unsent opened report stays opened when an update arrives before it is sent', async () => {
  const sent: OutboxMessage[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const outbox = new SignalOutbox({
    send: async (m) => {
      if (m.report.signal.id === 'block') await gate;
      sent.push(m);
    },
    traceparentFor,
  });
  outbox.push(report('block', 'opened', 1));
  outbox.push(report('c', 'opened', 1));
  outbox.push(report('c', 'updated', 5));
  release();
  await outbox.flush();
  const c = sent.filter((m) => m.report.signal.id === 'c');
  assert.equal(c[0]?.report.kind, 'opened');
  assert.equal(c[0]?.report.signal.count, 5);
});

test('a new signal is sent before the queued updates of others', async () => {
  const order: string[] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const outbox = new SignalOutbox({
    send: async (m) => {
      await gate;
      order.push(`${m.report.signal.id}:${m.report.kind}`);
    },
    traceparentFor,
    maxInFlight: 1,
  });
  outbox.push(report('first', 'opened', 1)); // on the wire until released
  for (const id of ['u1', 'u2', 'u3']) outbox.push(report(id, 'updated', 2));
  outbox.push(report('fresh', 'opened', 1));
  release();
  await outbox.flush();
  assert.deepEqual(order, ['first:opened', 'fresh:opened', 'u1:updated', 'u2:updated', 'u3:updated']);
  await outbox.close();
});

test('a slow answer for one signal holds one slot only', async () => {
  const order: string[] = [];
  let releaseSlow: () => void = () => {};
  const slow = new Promise<void>((r) => (releaseSlow = r));
  const outbox = new SignalOutbox({
    send: async (m) => {
      if (m.report.signal.id === 'slow') await slow;
      order.push(m.report.signal.id);
    },
    traceparentFor,
    maxInFlight: 2,
  });
  outbox.push(report('slow', 'opened', 1));
  for (const id of ['a', 'b', 'c']) outbox.push(report(id, 'opened', 1));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(order, ['a', 'b', 'c']);
  releaseSlow();
  await outbox.flush();
  assert.deepEqual(order, ['a', 'b', 'c', 'slow']);
  await outbox.close();
});
