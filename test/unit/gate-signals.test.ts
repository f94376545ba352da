import { test } from 'node:test';
import assert from 'node:assert/strict';
import { behaviourOf } from '../../src/gate/behaviour.ts';
import { reportEventIds, SignalGrouper } from '../../src/gate/signals.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
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

test('a signal lists the behaviours of its events; the first event of a new one is kept past maxEventIds and reported', () => {
  const g = new SignalGrouper({ windowMs: 60_000, maxEventIds: 3, maxBehaviours: 3 });
  const rule = 'Network Connection outside Local Subnet';
  let last = g.add(makeEvent({ id: 'n0', timeMs: T0, rule, proc: 'python3', pname: 'gunicorn' }), 0.7);
  for (let i = 1; i < 6; i++)
    last = g.add(makeEvent({ id: `n${i}`, timeMs: T0 + i, rule, proc: 'python3', pname: 'gunicorn' }), 0.7);
  assert.equal(last.signal.behaviours?.length, 1, 'the same process repeating is one behaviour');
  assert.deepEqual(last.signal.eventIds, ['n0', 'n1', 'n2']);
  // The same rule from another process: a new behaviour, its event kept although the ids are full.
  const step = g.add(makeEvent({ id: 'x1', timeMs: T0 + 10, rule, proc: 'curl', pname: 'sh' }), 0.7);
  assert.deepEqual(step.signal.rules, [rule], 'no new rule');
  assert.equal(step.signal.behaviours?.length, 2);
  assert.deepEqual(step.signal.eventIds, ['n0', 'n1', 'n2', 'x1']);
  assert.deepEqual(step.signal.behaviourEventIds, ['n0', 'x1']);
  assert.deepEqual(reportEventIds(step.signal, 2), ['n0', 'x1'], 'a report carries every behaviour first');
  assert.deepEqual(reportEventIds(step.signal, 3), ['n0', 'n1', 'x1']);
  // Bounded: past maxBehaviours nothing more is listed or kept.
  g.add(makeEvent({ id: 'x2', timeMs: T0 + 11, rule, proc: 'wget', pname: 'sh' }), 0.7);
  const capped = g.add(makeEvent({ id: 'x3', timeMs: T0 + 12, rule, proc: 'nc', pname: 'sh' }), 0.7);
  assert.equal(capped.signal.behaviours?.length, 3);
  assert.deepEqual(capped.signal.eventIds, ['n0', 'n1', 'n2', 'x1', 'x2']);
});

test('behaviourOf: rule with process and parent (syscall), with user, verb and resource (k8s_audit); parts cannot be forged', () => {
  const base = makeEvent({ rule: 'R', proc: 'bash', pname: 'nginx' });
  assert.equal(behaviourOf(base), behaviourOf(makeEvent({ rule: 'R', proc: 'bash', pname: 'nginx' })));
  assert.notEqual(behaviourOf(base), behaviourOf(makeEvent({ rule: 'R', proc: 'bash', pname: 'sshd' })));
  assert.notEqual(
    behaviourOf(makeEvent({ rule: 'R', proc: 'a","b', pname: '' })),
    behaviourOf(makeEvent({ rule: 'R', proc: 'a', pname: 'b' })),
    'a value cannot pass for two parts',
  );
  const audit = (user: string, verb: string): NormalizedEvent => ({
    ...makeEvent({ rule: 'K8s Secret Get' }),
    source: 'k8s_audit',
    fields: { 'ka.user.name': user, 'ka.verb': verb, 'ka.target.resource': 'secrets' },
  });
  assert.equal(behaviourOf(audit('ci', 'get')), behaviourOf(audit('ci', 'get')));
  assert.notEqual(behaviourOf(audit('ci', 'get')), behaviourOf(audit('system:anonymous', 'get')));
  assert.ok(behaviourOf(makeEvent({ rule: 'R', proc: 'p'.repeat(10_000) })).length < 400, 'bounded');
});

test('behaviourOf: a connection adds its direction, remote address class and server port, not the addresses', () => {
  const connect = (name: string, lport: number, rport: number): NormalizedEvent =>
    makeEvent({
      rule: 'Network Connection outside Local Subnet',
      proc: 'python3',
      pname: 'gunicorn',
      fields: { 'fd.name': name, 'fd.lport': lport, 'fd.rport': rport },
    });
  const https = behaviourOf(connect('10.0.1.7:51200->151.101.1.69:443', 51200, 443));
  assert.match(https, /"out public:443"/);
  assert.equal(
    behaviourOf(connect('10.0.1.7:40022->104.16.2.3:443', 40022, 443)),
    https,
    'another public address and client port: the same behaviour',
  );
  const beacon = behaviourOf(connect('10.0.1.7:51201->203.0.113.9:4444', 51201, 4444));
  assert.notEqual(beacon, https, 'a new server port is news');
  assert.match(beacon, /"out public:4444"/);
  assert.notEqual(
    behaviourOf(connect('10.0.1.7:51202->169.254.169.254:80', 51202, 80)),
    behaviourOf(connect('10.0.1.7:51203->151.101.1.69:80', 51203, 80)),
    'the metadata endpoint is another class than a public address',
  );
  const served = behaviourOf(connect('198.51.100.4:60123->10.0.1.7:8080', 8080, 60123));
  assert.match(served, /"in public:8080"/, 'inbound: the client class and the local server port');
  assert.equal(
    behaviourOf(makeEvent({ rule: 'R', proc: 'bash', pname: 'nginx' })),
    JSON.stringify(['R', 'bash', 'nginx']),
    'no connection: no part added',
  );
});
