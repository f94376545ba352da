/** The engine's queries on PostgreSQL: the same flows as on SQLite, on a throwaway cluster. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { requireComponent } from '../../../test/support/components.ts';
import { isFalconerError } from '../../errors.ts';
import { verifyAuditLog } from '../../store/audit-log.ts';
import {
  createDatabase,
  findPostgresBin,
  startPgCluster,
  type PgCluster,
} from '../../store/test-support/pg-cluster.ts';
import { getIncident } from './incident-repo.ts';
import { FakePeers, proposal, report } from './testing/fakes.ts';
import { eventually, harness } from './testing/harness.ts';

const bin = findPostgresBin();
let cluster: PgCluster | undefined;
before(async () => {
  if (bin) cluster = await startPgCluster(bin);
});
after(async () => {
  await cluster?.stop();
});

test('PostgreSQL: grouping, idempotency, four eyes, resume on a second coordinator, audit chain', async (t) => {
  if (!requireComponent(t, 'postgresql', bin !== undefined, 'apt-get install -y postgresql')) return;
  const url = await createDatabase(cluster!.url, 'flow');
  const a = await harness(url, new FakePeers({ hang: { propose: true } }));
  const first = await a.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: a.now.ms }), {
    messageId: 'm1',
  });
  assert.deepEqual(
    await a.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: a.now.ms }), { messageId: 'm1' }),
    first,
  );
  const joined = await a.coordinator.onSignal(report({ signalId: 's2', lastSeenMs: a.now.ms + 1000 }), {
    messageId: 'm2',
  });
  assert.equal(joined.incidentId, first.incidentId);
  await eventually(() => a.peers.callsOf('propose').length === 1);

  const b = await harness(
    url,
    new FakePeers({ proposals: () => [proposal('p1', { requiresApproval: true, approvalsRequired: 2 })] }),
  );
  try {
    await b.coordinator.resume();
    const id = first.incidentId;
    await eventually(async () => (await getIncident(b.store.db, id)).status === 'awaiting_approval');
    await b.coordinator.decide({
      incidentId: id,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });
    await assert.rejects(
      b.coordinator.decide({
        incidentId: id,
        proposalId: 'p1',
        decision: 'approve',
        by: 'alice',
        via: 'api',
      }),
      (e) => isFalconerError(e, 'APPROVAL_DUPLICATE'),
    );
    await b.coordinator.decide({
      incidentId: id,
      proposalId: 'p1',
      decision: 'approve',
      by: 'bob',
      via: 'api',
    });
    await eventually(async () => (await getIncident(b.store.db, id)).status === 'resolved');
    await b.coordinator.idle();
    assert.equal(b.peers.delivered.size, 2);
    assert.equal(b.peers.callsOf('analyse').length, 0);
    const v = await verifyAuditLog(b.store);
    assert.equal(v.ok, true);
    assert.ok(v.records >= 8);
  } finally {
    await b.close();
    await a.close();
  }
});
