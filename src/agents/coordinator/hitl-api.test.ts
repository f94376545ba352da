import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readAuditLog } from '../../store/audit-log.ts';
import { silentLogger } from '../../telemetry/logger.ts';
import { startHitlApi, type HitlApiServer } from './hitl-api.ts';
import { getIncident } from './incident-repo.ts';
import { FakePeers, proposal, report } from './testing/fakes.ts';
import { eventually, harness, tempDir, type Harness } from './testing/harness.ts';

const tmp = tempDir();
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
let h: Harness;
let api: HitlApiServer;

before(async () => {
  const peers = new FakePeers({
    proposals: (id) =>
      id.endsWith('')
        ? [proposal('p1', { requiresApproval: true, approvalsRequired: 2 }), proposal('p2')]
        : [],
  });
  h = await harness(join(tmp.dir, 'hitl.db'), peers, { clock: Date.now });
  api = await startHitlApi({
    coordinator: h.coordinator,
    store: h.store,
    credentials: [
      { user: 'alice', token: ALICE },
      { user: 'bob', token: BOB },
    ],
    linkSigner: h.links,
    audit: h.audit,
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
  });
});
after(async () => {
  await api.close();
  await h.close();
  tmp.remove();
});

/** The answers' fields the tests read (each answer has some of them). */
interface ApiBody {
  error: { code: string; message: string };
  incidents: Array<{ id: string; status: string }>;
  incident: { status: string };
  analysis: { verdict: string };
  proposals: Array<{ id: string }>;
  timeline: Array<{ to: string }>;
  signals: Array<{ id: string; eventIds: string[] }>;
  by: string;
  proposalState: string;
  incidentStatus: string;
}

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string } = {},
) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(opts.body !== undefined
      ? { body: JSON.stringify(opts.body) }
      : opts.raw !== undefined
        ? { body: opts.raw }
        : {}),
  });
  return { status: res.status, body: (await res.json()) as ApiBody };
}

async function openIncident(workloadKey: string): Promise<string> {
  const { incidentId } = await h.coordinator.onSignal(
    report({ signalId: `s-${workloadKey}`, lastSeenMs: Date.now(), workloadKey }),
    {
      messageId: `m-${workloadKey}`,
    },
  );
  await eventually(async () => (await getIncident(h.store.db, incidentId)).status === 'awaiting_approval');
  await h.coordinator.idle();
  return incidentId;
}

test('no token, a wrong token, or a malformed header: 401 with a JSON error', async () => {
  for (const token of [undefined, 'wrong-token-0123456789']) {
    const r = await call('GET', '/api/incidents', token ? { token } : {});
    assert.equal(r.status, 401);
    assert.equal(r.body.error.code, 'HITL_UNAUTHORIZED');
  }
  const res = await fetch(`${api.url}/api/incidents`, { headers: { authorization: `Basic ${ALICE}` } });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="falconer"');
});

test('list and read incidents; bad filters are 400, unknown ids 404', async () => {
  const id = await openIncident('ns/list');
  const all = await call('GET', '/api/incidents', { token: ALICE });
  assert.equal(all.status, 200);
  assert.ok(all.body.incidents.some((i: { id: string }) => i.id === id));
  const awaiting = await call('GET', '/api/incidents?status=awaiting_approval,remediating', { token: ALICE });
  assert.ok(
    awaiting.body.incidents.every(
      (i: { status: string }) => i.status === 'awaiting_approval' || i.status === 'remediating',
    ),
  );
  const none = await call('GET', '/api/incidents?status=resolved', { token: ALICE });
  assert.ok(!none.body.incidents.some((i: { id: string }) => i.id === id));
  assert.equal((await call('GET', '/api/incidents?status=bogus', { token: ALICE })).status, 400);
  const one = await call('GET', `/api/incidents/${id}`, { token: ALICE });
  assert.equal(one.status, 200);
  assert.equal(one.body.incident.status, 'awaiting_approval');
  assert.equal(one.body.analysis.verdict, 'true_positive');
  assert.deepEqual(
    one.body.proposals.map((p: { id: string }) => p.id),
    ['p1', 'p2'],
  );
  assert.deepEqual(
    one.body.timeline.map((t: { to: string }) => t.to),
    ['new', 'analysing', 'proposed', 'awaiting_approval'],
  );
  // Each signal with the events this incident received.
  assert.deepEqual(
    one.body.signals.map((x) => [x.id, x.eventIds]),
    [['s-ns/list', ['s-ns/list-e1']]],
  );
  const missing = await call('GET', '/api/incidents/inc-nope', { token: ALICE });
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, 'INCIDENT_NOT_FOUND');
  assert.equal((await call('GET', '/api/nowhere', { token: ALICE })).status, 404);
});

test('four eyes over HTTP: alice then bob approve p1, p2 by one; repeats 409; impersonation 403; bad JSON 400', async () => {
  const id = await openIncident('ns/four-eyes');
  const approve = (pid: string, token: string, body: unknown = {}) =>
    call('POST', `/api/incidents/${id}/proposals/${pid}/approve`, { token, body });
  const a1 = await approve('p1', ALICE);
  assert.equal(a1.status, 200);
  assert.equal(a1.body.by, 'alice');
  assert.equal(a1.body.proposalState, 'pending');
  const again = await approve('p1', ALICE);
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'APPROVAL_DUPLICATE');
  const spoof = await approve('p1', ALICE, { by: 'bob' });
  assert.equal(spoof.status, 403);
  assert.equal(
    (await call('POST', `/api/incidents/${id}/proposals/p1/approve`, { token: BOB, raw: '{not json' }))
      .status,
    400,
  );
  assert.equal((await approve('p9', BOB)).status, 404);
  assert.equal((await approve('p1', BOB, { by: 'bob' })).body.proposalState, 'approved');
  assert.equal((await approve('p2', BOB)).body.proposalState, 'approved');
  await eventually(async () => (await getIncident(h.store.db, id)).status === 'resolved');
  const late = await approve('p2', ALICE);
  assert.equal(late.status, 409);
  assert.equal(late.body.error.code, 'APPROVAL_NOT_ALLOWED');
  const audit = await readAuditLog(h.store, { traceId: (await getIncident(h.store.db, id)).traceId });
  assert.deepEqual(
    audit.filter((r) => r.action === 'proposal.approve').map((r) => r.actor),
    ['alice', 'bob', 'bob'],
  );
});

test('chat links: approve and reject apply once; a replay is 409, a tampered link 400, the audit shows refusals', async () => {
  const id = await openIncident('ns/links');
  await h.coordinator.idle();
  const note = h.peers.delivered.get(`${id}:approval.needed:1`);
  assert.ok(note);
  const path = (url: string) => new URL(url).pathname;
  const rejectP2 = await call('GET', path(note.links.p2!.reject));
  assert.equal(rejectP2.status, 200);
  assert.equal(rejectP2.body.proposalState, 'rejected');
  const replay = await call('GET', path(note.links.p2!.reject));
  assert.equal(replay.status, 409);
  assert.equal(replay.body.error.code, 'LINK_USED');
  const tampered = path(note.links.p1!.approve).slice(0, -3) + 'xyz';
  assert.equal((await call('GET', tampered)).status, 400);
  // p1 needs two people: the link gives one approval, alice the second.
  assert.equal((await call('GET', path(note.links.p1!.approve))).body.proposalState, 'pending');
  assert.equal(
    (await call('POST', `/api/incidents/${id}/proposals/p1/approve`, { token: ALICE, body: {} })).body
      .proposalState,
    'approved',
  );
  await eventually(async () => (await getIncident(h.store.db, id)).status === 'resolved');
  const inc = await getIncident(h.store.db, id);
  assert.deepEqual(Object.keys(inc.executions), ['p1']);
  const refusals = (await readAuditLog(h.store))
    .filter((r) => r.action === 'link.refused')
    .map((r) => r.result);
  assert.ok(refusals.includes('LINK_USED') && refusals.includes('LINK_INVALID'));
});

test('expired approval links answer 410', async () => {
  const id = await openIncident('ns/expired');
  const note = h.peers.delivered.get(`${id}:approval.needed:1`)!;
  const claims = h.links.verify(new URL(note.links.p2!.approve).pathname.split('/').pop()!);
  const expired = h.links.sign({ ...claims, expiresAt: Date.now() - 1 });
  const r = await call('GET', `/api/links/${expired}`);
  assert.equal(r.status, 410);
  assert.equal(r.body.error.code, 'LINK_EXPIRED');
});

test('verdict: false_positive dismisses and reaches detect as feedback; invalid verdicts 400', async () => {
  const id = await openIncident('ns/verdict');
  assert.equal(
    (await call('POST', `/api/incidents/${id}/verdict`, { token: BOB, body: { verdict: 'maybe' } })).status,
    400,
  );
  const r = await call('POST', `/api/incidents/${id}/verdict`, {
    token: BOB,
    body: { verdict: 'false_positive', by: 'bob' },
  });
  assert.equal(r.status, 200);
  assert.equal(r.body.incidentStatus, 'dismissed');
  await eventually(() =>
    h.peers.feedbacks.some((f) => f.incidentId === id && f.verdict === 'false_positive'),
  );
  const audit = await readAuditLog(h.store);
  assert.ok(
    audit.some((a) => a.action === 'incident.verdict' && a.actor === 'bob' && a.result === 'false_positive'),
  );
});
