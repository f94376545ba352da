import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalGrouper } from '../../src/gate/signals.ts';
import { T0, makeEvent } from '../support/gate-events.ts';

test('forwarded events of one workload within the window form one signal; it opens, then updates', () => {
  const g = new SignalGrouper({ windowMs: 60_000 });
  const a = g.add(
    makeEvent({ id: 'e1', timeMs: T0, rule: 'Terminal shell in container', priority: 'Notice' }),
    0.7,
  );
  assert.equal(a.kind, 'opened');
  assert.equal(a.signal.count, 1);
  assert.equal(a.signal.id, 'sig_e1');
  const b = g.add(
    makeEvent({
      id: 'e2',
      timeMs: T0 + 30_000,
      rule: 'Netcat Remote Code Execution in Container',
      priority: 'Critical',
    }),
    0.8,
  );
  assert.equal(b.kind, 'updated');
  assert.equal(b.signal.id, 'sig_e1');
  assert.deepEqual(b.signal.eventIds, ['e1', 'e2']);
  assert.deepEqual(b.signal.rules, [
    'Terminal shell in container',
    'Netcat Remote Code Execution in Container',
  ]);
  assert.equal(b.signal.maxScore, 0.8);
  assert.equal(b.signal.priorityLevel, 2, 'most severe priority wins');
  assert.equal(b.signal.firstSeenMs, T0);
  assert.equal(b.signal.lastSeenMs, T0 + 30_000);
  // Snapshots do not change afterwards.
  assert.equal(a.signal.count, 1);
  // The same rule again is counted but not listed twice.
  const c = g.add(makeEvent({ id: 'e3', timeMs: T0 + 40_000, rule: 'Terminal shell in container' }), 0.6);
  assert.equal(c.signal.count, 3);
  assert.equal(c.signal.rules.length, 2);
  assert.equal(c.signal.maxScore, 0.8);
});

test('a gap longer than the window, or another workload, opens a new signal', () => {
  const g = new SignalGrouper({ windowMs: 60_000 });
  g.add(makeEvent({ id: 'a1', timeMs: T0 }), 0.7);
  const other = g.add(makeEvent({ id: 'b1', timeMs: T0 + 1000, pod: 'db-0', namespace: 'data' }), 0.7);
  assert.equal(other.kind, 'opened');
  assert.equal(g.openCount, 2);
  const late = g.add(makeEvent({ id: 'a2', timeMs: T0 + 61_001 }), 0.7);
  assert.equal(late.kind, 'opened');
  assert.equal(late.signal.id, 'sig_a2');
  assert.equal(g.openedTotal, 3);
});

test('closed signals are evicted as event time passes, and open ones stay bounded', () => {
  const g = new SignalGrouper({ windowMs: 10_000, maxOpen: 50, maxEventIds: 5 });
  for (let i = 0; i < 200; i++)
    g.add(makeEvent({ id: `w${i}`, timeMs: T0 + i, pod: `p${i}-6c7d8f9b5-bcdfg` }), 0.7);
  assert.equal(g.openCount, 50, 'beyond maxOpen the least recently updated closes');
  assert.equal(g.closedTotal, 150);
  g.advance(T0 + 5_000);
  assert.equal(g.openCount, 50);
  g.advance(T0 + 20_000);
  assert.equal(g.openCount, 0);
  assert.equal(g.closedTotal, 200);
  for (let i = 0; i < 20; i++) g.add(makeEvent({ id: `x${i}`, timeMs: T0 + 30_000 + i }), 0.7);
  const [only] = g.openSignals();
  assert.equal(only!.count, 20);
  assert.equal(only!.eventIds.length, 5, 'event ids are bounded');
});

test('a signal spanning more than maxSpanMs closes and a new one opens', () => {
  const g = new SignalGrouper({ windowMs: 60_000, maxSpanMs: 120_000 });
  let last;
  for (let i = 0; i <= 5; i++) last = g.add(makeEvent({ id: `m${i}`, timeMs: T0 + i * 30_000 }), 0.7);
  assert.equal(last!.kind, 'opened');
  assert.equal(last!.signal.id, 'sig_m5');
  assert.throws(() => new SignalGrouper({ windowMs: 0 }), /windowMs/);
});
