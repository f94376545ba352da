/**
 * The durable signal outbox: what detect accepted survives a restart and a
 * kill -9, and the coordinator (the real engine, idempotent by message id)
 * sees every report exactly once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../store/db.ts';
import type { SignalReportInput } from '../contracts.ts';
import { report } from '../coordinator/testing/fakes.ts';
import { harness, tempDir } from '../coordinator/testing/harness.ts';
import { SignalOutbox, type OutboxMessage } from './signal-outbox.ts';
import { SqlOutboxJournal } from './signal-outbox-store.ts';

const tmp = tempDir();
after(() => tmp.remove());
const traceparentFor = (): string => '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01';
const CHILD = fileURLToPath(new URL('./signal-outbox-crash-child.ts', import.meta.url));

function signalReport(id: string, count: number, kind: 'opened' | 'updated'): SignalReportInput {
  const eventIds = Array.from({ length: count }, (_, i) => `${id}-e${i + 1}`);
  return report({ signalId: id, workloadKey: `shop/pod-${id}`, lastSeenMs: Date.now(), eventIds, kind });
}

test('pending reports are written before they are sent and survive a close / reopen of the database', async () => {
  const file = join(tmp.dir, 'reopen.db');
  const store = await openDatabase(`sqlite:${file}`);
  const journal = await SqlOutboxJournal.open(store);
  const rowsAtSend: number[] = [];
  const outbox = new SignalOutbox({
    journal,
    traceparentFor,
    retryInitialMs: 10_000, // the coordinator is down: the first failure parks the loop
    send: async () => {
      rowsAtSend.push(await journal.count());
      throw new Error('connection refused');
    },
  });
  await outbox.push(signalReport('a', 1, 'opened'));
  await outbox.push(signalReport('b', 1, 'opened'));
  await outbox.push(signalReport('b', 4, 'updated'));
  assert.equal(await journal.count(), 2, 'one row per signal, the newest snapshot');
  await outbox.close();
  await store.close();
  assert.ok(rowsAtSend.length >= 1 && rowsAtSend.every((n) => n >= 1), 'never sent before it was written');

  const reopened = await openDatabase(`sqlite:${file}`);
  try {
    const journal2 = await SqlOutboxJournal.open(reopened);
    const sent: OutboxMessage[] = [];
    const outbox2 = new SignalOutbox({
      journal: journal2,
      traceparentFor,
      send: async (m) => void sent.push(m),
    });
    assert.equal(await outbox2.restore(), 2);
    await outbox2.flush();
    assert.deepEqual(sent.map((m) => m.messageId).sort(), ['signal:a:1', 'signal:b:4']);
    // b was never delivered, so its newest snapshot still opens it at the coordinator.
    assert.equal(sent.find((m) => m.report.signal.id === 'b')?.report.kind, 'opened');
    assert.equal(await journal2.count(), 0, 'acknowledged rows are deleted');
    await outbox2.close();
  } finally {
    await reopened.close();
  }
});

test('kill -9 of detect mid-delivery: after the restart every signal reaches the coordinator exactly once', async () => {
  const dbFile = join(tmp.dir, 'detect.db');
  const coord = await harness(join(tmp.dir, 'coordinator.db'), undefined, { clock: Date.now });
  const ACKED = 2;
  let requests = 0;
  const delivered: string[] = [];
  let hung: (() => void) | undefined;
  const hungCall = new Promise<void>((r) => (hung = r));
  // Plays the coordinator's A2A endpoint: the real engine handles every report; the third answer is never sent.
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const m = JSON.parse(body) as OutboxMessage;
      delivered.push(m.messageId);
      const n = ++requests;
      void coord.coordinator
        .onSignal(m.report, { messageId: m.messageId, traceparent: m.traceparent })
        .then(() => (n <= ACKED ? res.end('{}') : hung?.()));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/signal`;
  try {
    const reports = [
      ...['s1', 's2', 's3', 's4', 's5', 's6'].map((id) => signalReport(id, 1, 'opened')),
      signalReport('s2', 2, 'updated'),
      signalReport('s5', 3, 'updated'),
    ];
    const reportsFile = join(tmp.dir, 'reports.json');
    writeFileSync(reportsFile, JSON.stringify(reports));
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbFile, url, reportsFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await Promise.race([
      hungCall,
      exited.then(() => assert.fail(`the child exited before the hung call: ${stderr}`)),
    ]);
    // The acknowledgements' deletes are sub-millisecond; give them a moment, then kill mid-call.
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    clearTimeout(timeout);
    const [, signal] = await exited;
    assert.equal(signal, 'SIGKILL');
    const before = [...delivered];
    assert.equal(before.length, ACKED + 1);

    // The restarted detect: same database, the coordinator now answers directly.
    const store = await openDatabase(`sqlite:${dbFile}`);
    try {
      const journal = await SqlOutboxJournal.open(store);
      const resent: string[] = [];
      const outbox = new SignalOutbox({
        journal,
        traceparentFor,
        send: async (m) => {
          resent.push(m.messageId);
          await coord.coordinator.onSignal(m.report, { messageId: m.messageId, traceparent: m.traceparent });
        },
      });
      assert.equal(await outbox.restore(), 4, 'the unacknowledged reports: the hung one and three unsent');
      await outbox.flush();
      await outbox.close();
      assert.equal(await journal.count(), 0);
      assert.ok(resent.includes(before[ACKED]!), 'the call cut by the kill is repeated with its message id');
      for (const id of before.slice(0, ACKED)) assert.ok(!resent.includes(id), `${id} was acknowledged`);
      // Updates of signals not yet sent were coalesced into one report each, before and after the crash.
      assert.deepEqual(before, ['signal:s1:1', 'signal:s3:1', 'signal:s4:1']);
      assert.deepEqual(resent.sort(), ['signal:s2:2', 'signal:s4:1', 'signal:s5:3', 'signal:s6:1']);
    } finally {
      await store.close();
    }

    // The coordinator's view: six signals, six incidents, each opened once, with the newest snapshots.
    await coord.coordinator.idle();
    const db = coord.store.db;
    const incidents = await db.selectFrom('incidents').select('id').execute();
    assert.equal(incidents.length, 6);
    const rows = await db.selectFrom('incident_signals').select(['signal_id', 'report']).execute();
    assert.equal(rows.length, 6);
    const counts = Object.fromEntries(
      rows.map((r) => [r.signal_id, (JSON.parse(r.report) as SignalReportInput).signal.count]),
    );
    assert.deepEqual(counts, { s1: 1, s2: 2, s3: 1, s4: 1, s5: 3, s6: 1 });
    const opened = await db
      .selectFrom('audit_log')
      .select('seq')
      .where('action', '=', 'incident.opened')
      .execute();
    assert.equal(opened.length, 6, 'no report was handled twice');
  } finally {
    server.closeAllConnections();
    server.close();
    await coord.close();
  }
});
