import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFalconerError } from '../../errors.ts';
import { verifyAuditLog, readAuditLog } from '../../store/audit-log.ts';
import { getIncident, readTimeline } from './incident-repo.ts';
import { FakePeers, proposal, report, traceparent } from './testing/fakes.ts';
import { eventually, harness, tempDir } from './testing/harness.ts';

const tmp = tempDir();
after(() => tmp.remove());
let n = 0;
const dbFile = () => join(tmp.dir, `c-${++n}.db`);

test("onSignal is idempotent per messageId and groups a workload's signals within the window", async () => {
  const h = await harness(dbFile(), new FakePeers({ hang: { analyse: true } }));
  try {
    const t0 = h.now.ms;
    const { traceparent: tp, traceId } = traceparent();
    const first = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
      traceparent: tp,
    });
    assert.equal(first.created, true);
    const again = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
    });
    assert.deepEqual(again, first);
    // Same workload, 5 min later (window 10 min): joins.
    const joined = await h.coordinator.onSignal(
      report({ signalId: 's2', lastSeenMs: t0 + 5 * 60_000, priorityLevel: 1 }),
      {
        messageId: 'm2',
      },
    );
    assert.deepEqual(joined, { incidentId: first.incidentId, created: false });
    // An update of s1 stays with its incident.
    const upd = await h.coordinator.onSignal(
      report({ signalId: 's1', lastSeenMs: t0 + 6 * 60_000, kind: 'updated' }),
      {
        messageId: 'm3',
      },
    );
    assert.equal(upd.incidentId, first.incidentId);
    // 30 min after the last signal: a new incident.
    const later = await h.coordinator.onSignal(report({ signalId: 's3', lastSeenMs: t0 + 36 * 60_000 }), {
      messageId: 'm4',
    });
    assert.equal(later.created, true);
    assert.notEqual(later.incidentId, first.incidentId);
    // Another workload at the same time: its own incident.
    const other = await h.coordinator.onSignal(
      report({ signalId: 's4', lastSeenMs: t0, workloadKey: 'default/shop/db-0' }),
      { messageId: 'm5' },
    );
    assert.equal(other.created, true);
    const inc = await getIncident(h.store.db, first.incidentId);
    assert.equal(inc.traceId, traceId, "the trace id comes from the first signal's traceparent");
    assert.equal(inc.severity, 'critical', 'a priority-1 signal raised the severity');
    const signals = await h.store.db
      .selectFrom('incident_signals')
      .selectAll()
      .where('incident_id', '=', first.incidentId)
      .execute();
    assert.equal(signals.length, 2);
    const incidents = await h.store.db.selectFrom('incidents').select('id').execute();
    assert.equal(incidents.length, 3);
  } finally {
    await h.close();
  }
});

test('a signal that joins an incident reports the incident’s trace, not its own', async () => {
  const h = await harness(dbFile(), new FakePeers({ hang: { analyse: true } }));
  try {
    const t0 = h.now.ms;
    const opening = traceparent();
    const joining = traceparent();
    assert.notEqual(opening.traceId, joining.traceId);
    const first = await h.coordinator.onSignalTraced(report({ signalId: 'a1', lastSeenMs: t0 }), {
      messageId: 'ta1',
      traceparent: opening.traceparent,
    });
    assert.equal(first.traceId, opening.traceId);
    const joined = await h.coordinator.onSignalTraced(report({ signalId: 'a2', lastSeenMs: t0 + 1000 }), {
      messageId: 'ta2',
      traceparent: joining.traceparent,
    });
    assert.equal(joined.output.incidentId, first.output.incidentId);
    assert.equal(joined.traceId, opening.traceId);
    // A retried message answers the same, trace included.
    const retried = await h.coordinator.onSignalTraced(report({ signalId: 'a2', lastSeenMs: t0 + 1000 }), {
      messageId: 'ta2',
      traceparent: joining.traceparent,
    });
    assert.deepEqual(retried, joined);
  } finally {
    await h.close();
  }
});

test('concurrent signals of one workload open exactly one incident', async () => {
  const h = await harness(dbFile(), new FakePeers({ hang: { analyse: true } }));
  try {
    const outs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.coordinator.onSignal(report({ signalId: `s${i}`, lastSeenMs: h.now.ms + i }), {
          messageId: `m${i}`,
        }),
      ),
    );
    assert.equal(new Set(outs.map((o) => o.incidentId)).size, 1);
    assert.equal(outs.filter((o) => o.created).length, 1);
  } finally {
    await h.close();
  }
});

test('full flow: analyse → propose → approval via API → execute → resolved, notified once each, trace everywhere', async () => {
  const peers = new FakePeers();
  const h = await harness(dbFile(), peers);
  try {
    const { traceparent: tp, traceId } = traceparent();
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'sig-1',
      traceparent: tp,
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'awaiting_approval');
    await h.coordinator.idle();
    const needed = peers.delivered.get(`${incidentId}:approval.needed:1`);
    assert.ok(needed, 'approval.needed was sent');
    assert.match(needed.links.p1!.approve, /^http:\/\/127\.0\.0\.1:7600\/api\/links\/v1\./);
    assert.equal(needed.incident.traceId, traceId);
    assert.ok(
      peers.calls.every((c) => c.traceparent.includes(traceId)),
      'every peer call carries the incident trace',
    );
    assert.deepEqual(
      peers.calls.map((c) => c.messageId),
      [`${incidentId}:analyse`, `${incidentId}:propose`, `${incidentId}:notify:approval.needed`],
    );

    await h.coordinator.decide({
      incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'resolved');
    await h.coordinator.idle();
    const inc = await getIncident(h.store.db, incidentId);
    assert.equal(inc.executions.p1?.status, 'dry-run');
    assert.deepEqual(peers.executed[0]!.approvals, [{ by: 'alice', at: h.now.ms }]);
    assert.ok(peers.delivered.has(`${incidentId}:incident.resolved:1`));
    assert.equal(peers.callsOf('notify').length, 2);
    const timeline = await readTimeline(h.store.db, incidentId);
    assert.deepEqual(
      timeline.map((t) => `${t.from ?? '∅'}→${t.to}`),
      [
        '∅→new',
        'new→analysing',
        'analysing→proposed',
        'proposed→awaiting_approval',
        'awaiting_approval→remediating',
        'remediating→resolved',
      ],
    );
    const audit = await readAuditLog(h.store, { traceId });
    assert.ok(audit.some((r) => r.action === 'proposal.approve' && r.actor === 'alice'));
    assert.ok(audit.some((r) => r.action === 'action.executed' && r.result === 'dry-run'));
    assert.equal((await verifyAuditLog(h.store)).ok, true);
  } finally {
    await h.close();
  }
});

test('false positive: dismissed, feedback to detect, dismissal notified', async () => {
  const peers = new FakePeers({ verdict: 'false_positive' });
  const h = await harness(dbFile(), peers);
  try {
    const { incidentId } = await h.coordinator.onSignal(
      report({ signalId: 's1', lastSeenMs: h.now.ms, eventIds: ['e1', 'e2'] }),
      { messageId: 'sig-1' },
    );
    await eventually(async () => peers.feedbacks.length === 1 && peers.delivered.size === 1);
    const inc = await getIncident(h.store.db, incidentId);
    assert.equal(inc.status, 'dismissed');
    assert.equal(inc.reason, 'analysis: false positive');
    assert.deepEqual(peers.feedbacks[0], { incidentId, verdict: 'false_positive', eventIds: ['e1', 'e2'] });
    assert.equal(peers.callsOf('propose').length, 0);
  } finally {
    await h.close();
  }
});

test('policy allows everything without approval: straight to remediating; refused proposals never run', async () => {
  const peers = new FakePeers({
    proposals: () => [
      proposal('auto', { requiresApproval: false, approvalsRequired: 0 }),
      proposal('denied', { requiresApproval: true, approvalsRequired: 1, allowed: false }),
    ],
  });
  const h = await harness(dbFile(), peers);
  try {
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'x',
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'resolved');
    assert.deepEqual(
      peers.executed.map((e) => e.proposal.id),
      ['auto'],
    );
  } finally {
    await h.close();
  }
});

test('remediation.started is notified while the actions run, a held notifier never delays them, resolved follows', async () => {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const peers = new FakePeers({
    proposals: () => [
      proposal('label', { requiresApproval: false, approvalsRequired: 0 }),
      proposal('isolate', { requiresApproval: false, approvalsRequired: 0 }),
    ],
    holdUntil: { notify: () => held },
  });
  const h = await harness(dbFile(), peers);
  try {
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'x',
    });
    // The notifier holds remediation.started; both actions run meanwhile.
    await eventually(() => peers.executed.length === 2);
    assert.deepEqual(
      peers.callsOf('notify').map((c) => c.messageId),
      [`${incidentId}:notify:remediation.started`],
    );
    assert.equal((await getIncident(h.store.db, incidentId)).status, 'remediating');
    release();
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'resolved');
    await h.coordinator.idle();
    assert.deepEqual(
      [...peers.delivered.keys()],
      [`${incidentId}:remediation.started:1`, `${incidentId}:incident.resolved:1`],
    );
    const started = peers.delivered.get(`${incidentId}:remediation.started:1`)!;
    assert.equal(started.incident.status, 'remediating');
    assert.deepEqual(
      started.proposals.map((p) => p.id),
      ['label', 'isolate'],
    );
    assert.equal(started.analysis?.verdict, 'true_positive');
  } finally {
    await h.close();
  }
});

test('nothing proposed: dismissed with a reason', async () => {
  const h = await harness(dbFile(), new FakePeers({ proposals: () => [] }));
  try {
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'x',
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'dismissed');
    assert.match((await getIncident(h.store.db, incidentId)).reason!, /nothing to do/);
  } finally {
    await h.close();
  }
});

test('four eyes: two distinct approvers; the same person twice is refused; a rejection dismisses', async () => {
  const peers = new FakePeers({
    proposals: () => [proposal('p1', { requiresApproval: true, approvalsRequired: 2 })],
  });
  const h = await harness(dbFile(), peers);
  try {
    const a = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'a',
    });
    await eventually(
      async () => (await getIncident(h.store.db, a.incidentId)).status === 'awaiting_approval',
    );
    const first = await h.coordinator.decide({
      incidentId: a.incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });
    assert.equal(first.proposalState, 'pending');
    await assert.rejects(
      h.coordinator.decide({
        incidentId: a.incidentId,
        proposalId: 'p1',
        decision: 'approve',
        by: 'alice',
        via: 'api',
      }),
      (e) => isFalconerError(e, 'APPROVAL_DUPLICATE'),
    );
    await h.coordinator.idle();
    assert.equal((await getIncident(h.store.db, a.incidentId)).status, 'awaiting_approval');
    const second = await h.coordinator.decide({
      incidentId: a.incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'bob',
      via: 'api',
    });
    assert.equal(second.proposalState, 'approved');
    await eventually(async () => (await getIncident(h.store.db, a.incidentId)).status === 'resolved');
    assert.deepEqual(
      peers.executed[0]!.approvals.map((x) => x.by),
      ['alice', 'bob'],
    );

    const b = await h.coordinator.onSignal(
      report({ signalId: 's2', lastSeenMs: h.now.ms, workloadKey: 'default/shop/db-0' }),
      { messageId: 'b' },
    );
    await eventually(
      async () => (await getIncident(h.store.db, b.incidentId)).status === 'awaiting_approval',
    );
    await h.coordinator.decide({
      incidentId: b.incidentId,
      proposalId: 'p1',
      decision: 'reject',
      by: 'carol',
      via: 'api',
    });
    await eventually(async () => (await getIncident(h.store.db, b.incidentId)).status === 'dismissed');
    assert.match((await getIncident(h.store.db, b.incidentId)).reason!, /rejected/);
    assert.equal(peers.executed.length, 1);
  } finally {
    await h.close();
  }
});

test('approvals expire: the incident is dismissed with a reason and late approvals are refused (410)', async () => {
  const h = await harness(dbFile(), new FakePeers(), { approvalExpiryMs: 60_000 });
  try {
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'x',
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'awaiting_approval');
    await h.coordinator.idle();
    h.now.ms += 61_000;
    await assert.rejects(
      h.coordinator.decide({ incidentId, proposalId: 'p1', decision: 'approve', by: 'alice', via: 'api' }),
      (e) => isFalconerError(e, 'APPROVAL_EXPIRED'),
    );
    h.coordinator.schedule(incidentId); // the expiry timer does this in real time
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'dismissed');
    assert.match((await getIncident(h.store.db, incidentId)).reason!, /approval expired/);
    await eventually(() => h.peers.delivered.has(`${incidentId}:incident.dismissed:1`));
  } finally {
    await h.close();
  }
});

test('a failing peer: the incident stays in its state with attempts recorded, is retried, and does not block others', async () => {
  const peers = new FakePeers({ failFirst: { analyse: 3, notify: 2 } });
  const h = await harness(dbFile(), peers);
  try {
    const a = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'a',
    });
    await eventually(async () => (await getIncident(h.store.db, a.incidentId)).attempts >= 1);
    const stuck = await getIncident(h.store.db, a.incidentId);
    assert.equal(stuck.status, 'analysing');
    assert.match(stuck.lastError!, /analyse peer unavailable/);
    await eventually(
      async () => (await getIncident(h.store.db, a.incidentId)).status === 'awaiting_approval',
    );
    await eventually(() => peers.delivered.size === 1);
    assert.equal(peers.callsOf('analyse').length, 4);
    assert.ok(
      peers.callsOf('analyse').every((c) => c.messageId === `${a.incidentId}:analyse`),
      'retries reuse the messageId',
    );
    assert.equal(peers.callsOf('notify').length, 3);
    const metrics = await h.coordinator.metrics.peerFailures.get();
    assert.equal(metrics.values.find((v) => v.labels.skill === 'analyse')?.value, 3);
  } finally {
    await h.close();
  }
});

test('a hung peer call times out and one stuck incident never blocks another', async () => {
  const peers = new FakePeers();
  let hangFor = 'default/shop/web-1';
  const original = peers.analyse.bind(peers);
  peers.analyse = async (input, ctx) => {
    if (input.incident.workload.key === hangFor) {
      await new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }
    return original(input, ctx);
  };
  const h = await harness(dbFile(), peers, { concurrency: 1, peerTimeoutMs: 200 });
  try {
    const a = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'a',
    });
    const b = await h.coordinator.onSignal(
      report({ signalId: 's2', lastSeenMs: h.now.ms, workloadKey: 'ns/other' }),
      { messageId: 'b' },
    );
    await eventually(
      async () => (await getIncident(h.store.db, b.incidentId)).status === 'awaiting_approval',
    );
    const stuck = await getIncident(h.store.db, a.incidentId);
    assert.equal(stuck.status, 'analysing');
    assert.match(stuck.lastError ?? '', /PEER_TIMEOUT/);
    hangFor = 'nobody';
    await eventually(
      async () => (await getIncident(h.store.db, a.incidentId)).status === 'awaiting_approval',
    );
  } finally {
    await h.close();
  }
});

test('human verdict false_positive dismisses an open incident and sends feedback once', async () => {
  const peers = new FakePeers();
  const h = await harness(dbFile(), peers);
  try {
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: h.now.ms }), {
      messageId: 'x',
    });
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'awaiting_approval');
    await h.coordinator.setVerdict({ incidentId, verdict: 'false_positive', by: 'alice' });
    await h.coordinator.setVerdict({ incidentId, verdict: 'false_positive', by: 'alice' });
    await eventually(
      () => peers.feedbacks.length === 1 && peers.delivered.has(`${incidentId}:incident.dismissed:1`),
    );
    await h.coordinator.idle();
    assert.equal(peers.feedbacks.length, 1);
    const inc = await getIncident(h.store.db, incidentId);
    assert.equal(inc.status, 'dismissed');
    assert.equal(inc.verdict, 'false_positive');
    await assert.rejects(
      h.coordinator.decide({ incidentId, proposalId: 'p1', decision: 'approve', by: 'bob', via: 'api' }),
      (e) => isFalconerError(e, 'APPROVAL_NOT_ALLOWED'),
    );
  } finally {
    await h.close();
  }
});
