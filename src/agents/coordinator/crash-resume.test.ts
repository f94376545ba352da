/**
 * Crash safety: a coordinator abandoned (or SIGKILLed) mid-flow leaves the
 * database in a state from which a new coordinator completes the incident
 * without repeating finished steps or notifying twice.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyAuditLog } from '../../store/audit-log.ts';
import type { NotifyInput } from '../contracts.ts';
import { getIncident, listIncidents, readTimeline } from './incident-repo.ts';
import type { PeerContext } from './peers.ts';
import { FakePeers, report } from './testing/fakes.ts';
import { eventually, harness, tempDir } from './testing/harness.ts';

const tmp = tempDir();
after(() => tmp.remove());
let n = 0;
const dbFile = () => join(tmp.dir, `crash-${++n}.db`);

test('abandoned while proposing: a second coordinator resumes without re-analysing and finishes', async () => {
  const file = dbFile();
  const a = await harness(file, new FakePeers({ hang: { propose: true } }));
  const { incidentId } = await a.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: a.now.ms }), {
    messageId: 'sig',
  });
  await eventually(() => a.peers.callsOf('propose').length === 1);
  // "Crash": A is left hanging in its propose call; B opens the same file.
  const b = await harness(file, new FakePeers());
  try {
    assert.equal(await b.coordinator.resume(), 1);
    await eventually(async () => (await getIncident(b.store.db, incidentId)).status === 'awaiting_approval');
    await b.coordinator.idle();
    assert.equal(b.peers.callsOf('analyse').length, 0, 'the persisted analysis is not redone');
    assert.deepEqual(
      b.peers.callsOf('propose').map((c) => c.messageId),
      a.peers.callsOf('propose').map((c) => c.messageId),
      'the retried step carries the same messageId',
    );
    await b.coordinator.decide({
      incidentId,
      proposalId: 'p1',
      decision: 'approve',
      by: 'alice',
      via: 'api',
    });
    await eventually(async () => (await getIncident(b.store.db, incidentId)).status === 'resolved');
    await b.coordinator.idle();
    assert.equal(b.peers.delivered.size, 2);
    assert.equal((await verifyAuditLog(b.store)).ok, true);
  } finally {
    await b.close();
    await a.close();
  }
});

test('abandoned after a notification was delivered but before it was recorded: not sent twice', async () => {
  const file = dbFile();
  // One notifier shared by both coordinators (a real notifier dedupes by key across restarts of the coordinator).
  const shared = new FakePeers();
  const aPeers = new FakePeers();
  aPeers.notify = async (input: NotifyInput, ctx: PeerContext) => {
    await shared.notify(input, ctx); // delivered…
    return new Promise(() => undefined); // …and the coordinator dies before it hears back
  };
  const a = await harness(file, aPeers);
  const { incidentId } = await a.coordinator.onSignal(report({ signalId: 's1', lastSeenMs: a.now.ms }), {
    messageId: 'sig',
  });
  await eventually(() => shared.delivered.size === 1);
  const bPeers = new FakePeers();
  bPeers.notify = (input, ctx) => shared.notify(input, ctx);
  const b = await harness(file, bPeers);
  try {
    await b.coordinator.resume();
    await eventually(async () => {
      const row = await b.store.db.selectFrom('outbox').select('status').executeTakeFirst();
      return row?.status === 'done';
    });
    assert.equal(shared.callsOf('notify').length, 2, 'the retry reached the notifier…');
    assert.equal(shared.delivered.size, 1, '…which dropped it as a duplicate');
    assert.equal(new Set(shared.callsOf('notify').map((c) => c.messageId)).size, 1);
    const notes = await b.store.db.selectFrom('notifications').selectAll().execute();
    assert.equal(notes.length, 1);
    assert.equal(notes[0]!.incident_id, incidentId);
    assert.ok(notes[0]!.sent_at !== null);
  } finally {
    await b.close();
    await a.close();
  }
});

const CHILD = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url));

async function runChildUntilHung(file: string, journal: string, hangAt: string): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, file, journal, hangAt], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never reached ${hangAt}: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes(`hanging ${hangAt}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`child exited early: ${stderr}`));
    });
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
}

function journalOf(file: string): Array<{ skill: string; messageId: string; dedupeKey?: string }> {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { skill: string; messageId: string; dedupeKey?: string });
}

test('kill -9 of a real coordinator process while proposing: the restarted one completes the incident', async () => {
  const file = dbFile();
  const journal = join(tmp.dir, `journal-${n}.ndjson`);
  await runChildUntilHung(file, journal, 'propose');
  const b = await harness(file, new FakePeers(), { clock: Date.now });
  try {
    assert.equal(await b.coordinator.resume(), 1);
    const [incident] = await listIncidents(b.store.db);
    await eventually(
      async () => (await getIncident(b.store.db, incident!.id)).status === 'awaiting_approval',
    );
    await b.coordinator.idle();
    assert.equal(b.peers.callsOf('analyse').length, 0);
    assert.equal(
      b.peers.callsOf('propose')[0]!.messageId,
      journalOf(journal).find((j) => j.skill === 'propose')!.messageId,
    );
    assert.equal(b.peers.delivered.size, 1);
    const timeline = await readTimeline(b.store.db, incident!.id);
    assert.deepEqual(
      timeline.map((t) => t.to),
      ['new', 'analysing', 'proposed', 'awaiting_approval'],
    );
  } finally {
    await b.close();
  }
});

test('kill -9 right after a notification went out: the restart re-sends it under the same key only', async () => {
  const file = dbFile();
  const journal = join(tmp.dir, `journal-${n}.ndjson`);
  await runChildUntilHung(file, journal, 'notify');
  const sentBefore = journalOf(journal).filter((j) => j.skill === 'notify');
  assert.equal(sentBefore.length, 1);
  // The notifier after the restart remembers what it delivered (as the real one does, by dedupeKey).
  const peers = new FakePeers();
  const realNotify = peers.notify.bind(peers);
  const alreadyDelivered = new Set(sentBefore.map((j) => j.dedupeKey));
  let deliveredAfter = 0;
  peers.notify = async (input, ctx) => {
    const out = await realNotify(input, ctx);
    if (alreadyDelivered.has(input.dedupeKey)) return { deliveries: [], duplicate: true };
    deliveredAfter++;
    return out;
  };
  const b = await harness(file, peers, { clock: Date.now });
  try {
    await b.coordinator.resume();
    await eventually(async () => {
      const rows = await b.store.db.selectFrom('outbox').select('status').execute();
      return rows.length === 1 && rows[0]!.status === 'done';
    });
    assert.equal(deliveredAfter, 0, 'nothing new was delivered');
    assert.equal(peers.callsOf('notify')[0]!.messageId, sentBefore[0]!.messageId);
    assert.equal(input(peers.callsOf('notify')[0]!.input).dedupeKey, sentBefore[0]!.dedupeKey);
    assert.equal(peers.callsOf('analyse').length + peers.callsOf('propose').length, 0);
  } finally {
    await b.close();
  }
});

function input(x: unknown): NotifyInput {
  return x as NotifyInput;
}
