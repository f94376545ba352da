/**
 * Late signals: a signal that joins an incident after its analysis triggers a
 * (rate-limited, coalesced) re-analysis; proposals are re-proposed only if
 * they changed, approvals stand only for unchanged actions; a signal for a
 * closed incident's workload opens a linked follow-up. All of it persisted,
 * so a second coordinator on the same database carries on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFalconerError } from '../../errors.ts';
import type { ActionProposal, AnalyseInput, NotifyInput } from '../contracts.ts';
import { getIncident, loadApprovals, readTimeline } from './incident-repo.ts';
import { FakePeers, proposal, report } from './testing/fakes.ts';
import { eventually, harness, tempDir, type Harness } from './testing/harness.ts';

const tmp = tempDir();
after(() => tmp.remove());
let n = 0;
const dbFile = () => join(tmp.dir, `late-${++n}.db`);
const INTERVAL = 30_000;
const fourEyes = (id: string, params: Record<string, unknown> = {}): ActionProposal => ({
  ...proposal(id, { requiresApproval: true, approvalsRequired: 2 }),
  params,
});

async function statusIs(h: Harness, id: string, status: string): Promise<void> {
  await eventually(async () => (await getIncident(h.store.db, id)).status === status);
  await h.coordinator.idle();
}

test('late signals re-analyse an incident awaiting approval once per interval; unchanged proposals keep their approvals', async () => {
  const h = await harness(
    dbFile(),
    new FakePeers({ proposals: () => [fourEyes('p1', { at: Date.now() })] }),
    {
      reanalysisIntervalMs: INTERVAL,
      firstReanalysisDelayMs: INTERVAL,
    },
  );
  try {
    const t0 = h.now.ms;
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
    });
    await statusIs(h, incidentId, 'awaiting_approval');
    await h.coordinator.decide({
      incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });

    // Two late signals within the interval: recorded, nothing re-analysed yet.
    h.now.ms = t0 + 5_000;
    await h.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: h.now.ms }), { messageId: 'm2' });
    await h.coordinator.onSignal(report({ signalId: 's3', lastSeenMs: h.now.ms, priorityLevel: 2 }), {
      messageId: 'm3',
    });
    // An update that adds nothing new (same rules, same priority) does not ask for one.
    await h.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: h.now.ms + 1, kind: 'updated' }), {
      messageId: 'm4',
    });
    await h.coordinator.idle();
    assert.equal(h.peers.callsOf('analyse').length, 1);
    assert.equal((await getIncident(h.store.db, incidentId)).status, 'awaiting_approval');
    // ...but the responders are told at once: one incident.updated per signal with something new.
    const updates = h.peers
      .callsOf('notify')
      .map((c) => c.input as NotifyInput)
      .filter((x) => x.kind === 'incident.updated');
    assert.deepEqual(
      updates.map((u) => u.update?.signalId),
      ['s2', 's3'],
    );
    assert.equal(updates[1]?.update?.priorityLevel, 2);
    assert.equal(new Set(updates.map((u) => u.dedupeKey)).size, 2);
    assert.equal(updates[0]?.incident.id, incidentId);

    // The interval passed (the wake-up timer runs on real time; the test drives it with its clock).
    h.now.ms = t0 + INTERVAL + 1;
    h.coordinator.schedule(incidentId);
    await eventually(() => h.peers.callsOf('analyse').length === 2);
    await statusIs(h, incidentId, 'awaiting_approval');
    assert.deepEqual(
      h.peers.callsOf('analyse').map((c) => c.messageId),
      [`${incidentId}:analyse`, `${incidentId}:analyse:2`],
    );
    assert.equal(h.peers.callsOf('propose').at(-1)?.messageId, `${incidentId}:propose:2`);
    const timeline = await readTimeline(h.store.db, incidentId);
    const again = timeline.find((e) => e.from === 'awaiting_approval' && e.to === 'analysing');
    assert.match(again?.reason ?? '', /re-analysis: 2 late signal\(s\)/);
    assert.deepEqual((again?.detail as { signals: string[] }).signals, ['s2', 's3']);
    assert.equal(
      timeline.filter((e) => (e.detail as { reanalysis?: string })?.reanalysis === 'requested').length,
      2,
    );
    assert.ok(timeline.some((e) => /pending approvals stand/.test(e.reason)));
    // The analysis input carried the late signals' events.
    const input = h.peers.callsOf('analyse')[1]!.input as { events: { id: string }[] };
    assert.ok(input.events.some((e) => e.id === 's3-e1'));
    // No second approval request; alice's approval stands, so bob's is the second one.
    assert.equal([...h.peers.delivered.keys()].filter((k) => k.includes('approval.needed')).length, 1);
    await h.coordinator.decide({ incidentId, proposalId: 'p1', decision: 'approve', by: 'bob', via: 'api' });
    await statusIs(h, incidentId, 'resolved');
    assert.equal(h.peers.executed.length, 1);
  } finally {
    await h.close();
  }
});

test('a changed proposal after re-analysis is proposed again: old approvals void, old links refused, a new notification', async () => {
  let engine = 'cilium';
  const h = await harness(dbFile(), new FakePeers({ proposals: () => [fourEyes('p1', { engine })] }), {
    reanalysisIntervalMs: INTERVAL,
    firstReanalysisDelayMs: INTERVAL,
  });
  try {
    const t0 = h.now.ms;
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
    });
    await statusIs(h, incidentId, 'awaiting_approval');
    await h.coordinator.decide({
      incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });
    const firstNote = h.peers.delivered.get(`${incidentId}:approval.needed:1`);
    const oldLink = firstNote?.links['p1']?.approve;
    assert.ok(oldLink);

    engine = 'kubernetes'; // the new analysis leads to a different action
    h.now.ms = t0 + INTERVAL + 1;
    await h.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: h.now.ms }), { messageId: 'm2' });
    await eventually(() => h.peers.delivered.has(`${incidentId}:approval.needed:2`));
    await statusIs(h, incidentId, 'awaiting_approval');
    assert.deepEqual(
      await loadApprovals(h.store.db, incidentId),
      [],
      'alice approved the old action, not this one',
    );
    const renewed: NotifyInput = h.peers.delivered.get(`${incidentId}:approval.needed:2`)!;
    assert.equal((renewed.proposals[0]?.params as { engine?: string }).engine, 'kubernetes');
    assert.equal(h.peers.callsOf('notify').at(-1)?.messageId, `${incidentId}:notify:approval.needed:2`);

    const claims = h.links.verify(oldLink.slice(oldLink.lastIndexOf('/') + 1));
    await assert.rejects(
      h.coordinator.decide({
        incidentId,
        proposalId: 'p1',
        decision: 'approve',
        by: 'link:x',
        via: 'link',
        link: claims,
      }),
      (e) => isFalconerError(e, 'APPROVAL_EXPIRED'),
    );
    const newLink = renewed.links['p1']!.approve;
    const fresh = h.links.verify(newLink.slice(newLink.lastIndexOf('/') + 1));
    const out = await h.coordinator.decide({
      incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'link:y',
      via: 'link',
      link: fresh,
    });
    assert.equal(out.proposalState, 'pending', 'one of two approvals');
  } finally {
    await h.close();
  }
});

test('a signal after the incident closed opens a follow-up linked to it; an update with nothing new is only recorded', async () => {
  const h = await harness(dbFile(), new FakePeers({ verdict: 'false_positive' }));
  try {
    const t0 = h.now.ms;
    const { incidentId: closed } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
    });
    await statusIs(h, closed, 'dismissed');

    const same = await h.coordinator.onSignal(
      report({ signalId: 's1', lastSeenMs: t0 + 1_000, kind: 'updated' }),
      {
        messageId: 'm2',
      },
    );
    assert.deepEqual(same, { incidentId: closed, created: false });

    // The same signal escalates (a more urgent priority): a follow-up, not a silent update of a closed incident.
    const escalated = await h.coordinator.onSignal(
      report({ signalId: 's1', lastSeenMs: t0 + 2_000, kind: 'updated', priorityLevel: 1 }),
      { messageId: 'm3' },
    );
    assert.equal(escalated.created, true);
    const follow = await readTimeline(h.store.db, escalated.incidentId);
    assert.equal((follow[0]?.detail as { followsIncidentId?: string }).followsIncidentId, closed);
    const old = await readTimeline(h.store.db, closed);
    assert.equal(
      (old.at(-1)?.detail as { followUpIncidentId?: string }).followUpIncidentId,
      escalated.incidentId,
    );
    assert.equal(old.at(-1)?.to, 'dismissed', 'a note: the closed incident stays closed');

    // A new signal of the workload now joins the open follow-up.
    const joined = await h.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: t0 + 3_000 }), {
      messageId: 'm4',
    });
    assert.equal(joined.incidentId, escalated.incidentId);
    await h.coordinator.idle();

    // Outside the window (10 min in the harness): a fresh incident with no link.
    const { incidentId: fresh } = await h.coordinator.onSignal(
      report({ signalId: 's9', lastSeenMs: t0 + 60 * 60_000 }),
      { messageId: 'm5' },
    );
    const freshTimeline = await readTimeline(h.store.db, fresh);
    assert.equal((freshTimeline[0]?.detail as { followsIncidentId?: string }).followsIncidentId, undefined);
  } finally {
    await h.close();
  }
});

test("an update of a dismissed incident's signal with a new behaviour (same rule, another process) opens a follow-up", async () => {
  const h = await harness(dbFile(), new FakePeers({ verdict: 'false_positive' }));
  try {
    const t0 = h.now.ms;
    const benign = '["Terminal shell in container","bash","nginx"]';
    const opened = report({ signalId: 's1', lastSeenMs: t0, behaviours: [benign] });
    const { incidentId: closed } = await h.coordinator.onSignal(opened, { messageId: 'b1' });
    await statusIs(h, closed, 'dismissed');
    const again = await h.coordinator.onSignal(
      report({ signalId: 's1', lastSeenMs: t0 + 1_000, kind: 'updated', behaviours: [benign] }),
      { messageId: 'b2' },
    );
    assert.deepEqual(again, { incidentId: closed, created: false }, 'more of the same is only recorded');
    const step = await h.coordinator.onSignal(
      report({
        signalId: 's1',
        lastSeenMs: t0 + 2_000,
        kind: 'updated',
        behaviours: [benign, '["Terminal shell in container","bash","python3"]'],
      }),
      { messageId: 'b3' },
    );
    assert.equal(step.created, true, 'a new behaviour is analysed, not hidden behind the dismissal');
    const follow = await readTimeline(h.store.db, step.incidentId);
    assert.equal((follow[0]?.detail as { followsIncidentId?: string }).followsIncidentId, closed);
    // Its analysis is told what came just before on the workload and how it was judged.
    await h.coordinator.idle();
    const analysed = h.peers.callsOf('analyse').at(-1)?.input as AnalyseInput;
    assert.equal(analysed.incident.id, step.incidentId);
    assert.deepEqual(analysed.prior, [
      {
        id: closed,
        status: 'dismissed',
        verdict: 'false_positive',
        msBefore: 0,
        rules: ['Terminal shell in container'],
      },
    ]);
  } finally {
    await h.close();
  }
});

test('a signal that joins while an analysis runs is analysed before the incident can be dismissed', async () => {
  // The first analysis (benign noise only) would dismiss; the attack's signal joined while it ran.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let analyses = 0;
  const h = await harness(
    dbFile(),
    new FakePeers({
      holdUntil: { analyse: () => (++analyses === 1 ? held : Promise.resolve()) },
      verdictOf: (input) =>
        input.events.some((e) => e.id.startsWith('s2-')) ? 'true_positive' : 'false_positive',
    }),
    { reanalysisIntervalMs: INTERVAL, firstReanalysisDelayMs: INTERVAL },
  );
  try {
    const t0 = h.now.ms;
    const { incidentId } = await h.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
      messageId: 'm1',
    });
    await eventually(() => h.peers.callsOf('analyse').length === 1);
    const joined = await h.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: t0 + 100 }), {
      messageId: 'm2',
    });
    assert.equal(joined.incidentId, incidentId);
    release();
    await eventually(() => h.peers.callsOf('analyse').length === 2);
    await eventually(async () => (await getIncident(h.store.db, incidentId)).status !== 'analysing');
    await h.coordinator.idle();
    assert.notEqual((await getIncident(h.store.db, incidentId)).status, 'dismissed');
    assert.deepEqual(
      h.peers.callsOf('analyse').map((c) => c.messageId),
      [`${incidentId}:analyse`, `${incidentId}:analyse:2`],
    );
    const timeline = await readTimeline(h.store.db, incidentId);
    assert.ok(
      timeline.some((e) => /false positive, but 1 signal\(s\) joined while it ran \(s2\)/.test(e.reason)),
    );
    assert.ok(!timeline.some((e) => e.to === 'dismissed'));
  } finally {
    await h.close();
  }
});

test('a requested re-analysis survives the coordinator: a second one on the same database runs it', async () => {
  const file = dbFile();
  const a = await harness(file, new FakePeers(), {
    reanalysisIntervalMs: INTERVAL,
    firstReanalysisDelayMs: INTERVAL,
  });
  const t0 = a.now.ms;
  const { incidentId } = await a.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: t0 }), {
    messageId: 'm1',
  });
  await statusIs(a, incidentId, 'awaiting_approval');
  a.now.ms = t0 + 1_000;
  await a.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: a.now.ms }), { messageId: 'm2' });
  await a.coordinator.idle();
  // "Crash": A only had the wake-up timer in memory; B starts after the interval.
  await a.close();
  const b = await harness(file, new FakePeers(), {
    reanalysisIntervalMs: INTERVAL,
    firstReanalysisDelayMs: INTERVAL,
    startMs: t0 + INTERVAL + 5,
  });
  try {
    await b.coordinator.resume();
    await eventually(() => b.peers.callsOf('analyse').length === 1);
    await statusIs(b, incidentId, 'awaiting_approval');
    assert.equal(b.peers.callsOf('analyse')[0]?.messageId, `${incidentId}:analyse:2`);
    // Unchanged proposal: no second approval request from B either.
    assert.equal(b.peers.callsOf('notify').length, 0);
  } finally {
    await b.close();
  }
});
