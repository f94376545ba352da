import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { requireComponent } from '../../test/support/components.ts';
import { isFalconerError } from '../errors.ts';
import { AuditLog, digestOf, readAuditLog, verifyAuditLog } from './audit-log.ts';
import { openDatabase, parseDatabaseUrl, maskDatabaseUrl, type Store } from './db.ts';
import { SqlIdempotencyStore } from './idempotency.ts';
import type { AuditSink } from '../a2a/audit-sink.ts';
import type { IdempotencyStore } from '../a2a/idempotency.ts';
import {
  createDatabase,
  findPostgresBin,
  startPgCluster,
  type PgCluster,
} from './test-support/pg-cluster.ts';

const tmp = mkdtempSync(join(tmpdir(), 'falconer-store-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const sqliteUrl = () => `sqlite:${join(tmp, `db-${++n}.db`)}`;

test('database URLs: file path, sqlite:, postgres://; others refused; passwords masked', () => {
  assert.deepEqual(parseDatabaseUrl('/x/y.db'), { dialect: 'sqlite', target: '/x/y.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:data/c.db'), { dialect: 'sqlite', target: 'data/c.db' });
  assert.deepEqual(parseDatabaseUrl('sqlite:///abs/c.db'), { dialect: 'sqlite', target: '/abs/c.db' });
  assert.equal(parseDatabaseUrl('postgresql://u@h/db').dialect, 'postgres');
  assert.throws(
    () => parseDatabaseUrl('mysql://h/db'),
    (e) => isFalconerError(e, 'STORE_BAD_URL'),
  );
  assert.throws(
    () => parseDatabaseUrl('sqlite:'),
    (e) => isFalconerError(e, 'STORE_BAD_URL'),
  );
  assert.equal(maskDatabaseUrl('postgres://u:secret@h:5432/db'), 'postgres://u:***@h:5432/db');
});

/** The same behaviour checks run on every dialect available. */
function storeSuite(name: string, open: () => Promise<Store>) {
  describe(`${name}: store`, () => {
    test('migrations are idempotent; tables exist', async () => {
      const store = await open();
      try {
        const { migrate } = await import('./db.ts');
        await migrate(store); // second run: nothing to do
        const rows = await store.db.selectFrom('incidents').selectAll().execute();
        assert.deepEqual(rows, []);
      } finally {
        await store.close();
      }
    });

    test('idempotency store: first output wins, numbers round-trip', async () => {
      const store = await open();
      try {
        const idem = new SqlIdempotencyStore(store, () => 1_700_000_000_000);
        assert.equal(await idem.get('m1'), undefined);
        await idem.put('m1', 'signal.report', { incidentId: 'i1', created: true });
        await idem.put('m1', 'signal.report', { incidentId: 'other', created: false });
        assert.deepEqual(await idem.get('m1'), {
          skill: 'signal.report',
          output: { incidentId: 'i1', created: true },
        });
        const row = await store.db.selectFrom('processed_messages').select('at').executeTakeFirstOrThrow();
        assert.equal(row.at, 1_700_000_000_000);
      } finally {
        await store.close();
      }
    });

    test('audit log: concurrent appends form one chain that verifies', async () => {
      const store = await open();
      try {
        const audit = new AuditLog(store);
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            audit.record({
              actor: `spiffe://falconer.local/ns/default/sa/falconer-${i % 2 ? 'detect' : 'analyse'}`,
              action: 'a2a.call',
              inputDigest: digestOf({ i }),
              result: 'ok',
              traceId: '0af7651916cd43dd8448eb211c80319c',
              detail: { i, nested: { b: 1, a: [1, 2] } },
            }),
          ),
        );
        const v = await verifyAuditLog(store, 7);
        assert.deepEqual(v, { ok: true, records: 40 });
        const recs = await readAuditLog(store, { traceId: '0af7651916cd43dd8448eb211c80319c' });
        assert.equal(recs.length, 40);
        assert.deepEqual(
          recs.map((r) => r.seq),
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        assert.equal(recs[1]!.prevHash, recs[0]!.hash);
      } finally {
        await store.close();
      }
    });
  });
}

storeSuite('SQLite', () => openDatabase(sqliteUrl()));

describe('PostgreSQL', () => {
  const bin = findPostgresBin();
  let cluster: PgCluster | undefined;
  before(async () => {
    if (bin) cluster = await startPgCluster(bin);
  });
  after(async () => {
    await cluster?.stop();
  });
  test('PostgreSQL binaries present', (t) => {
    requireComponent(t, 'postgresql', bin !== undefined, 'apt-get install -y postgresql');
  });
  if (bin) {
    let dbs = 0;
    storeSuite('PostgreSQL', async () => openDatabase(await createDatabase(cluster!.url, `t${++dbs}`)));
  }
});

test('the persistent sinks fit the A2A interfaces; A2A reason and messageId are kept in the hashed detail', async () => {
  const store = await openDatabase(sqliteUrl());
  try {
    const sink: AuditSink = new AuditLog(store);
    const idem: IdempotencyStore = new SqlIdempotencyStore(store);
    await sink.record({
      actor: 'spiffe://falconer.local/ns/default/sa/falconer-notify',
      action: 'a2a:coordinator/signal.report',
      inputDigest: digestOf({}),
      result: 'refused',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      reason: 'notify may not call signal.report',
      messageId: 'm-1',
    });
    const [rec] = await readAuditLog(store);
    assert.deepEqual(rec!.detail, { messageId: 'm-1', reason: 'notify may not call signal.report' });
    assert.equal((await verifyAuditLog(store)).ok, true);
    await idem.put('k', 'incident.notify', { duplicate: false });
    assert.deepEqual(await idem.get('k'), { skill: 'incident.notify', output: { duplicate: false } });
  } finally {
    await store.close();
  }
});

describe('audit tampering (SQLite file edited directly)', () => {
  async function seeded(count: number): Promise<string> {
    const url = sqliteUrl();
    const store = await openDatabase(url);
    const audit = new AuditLog(store, () => 1_700_000_000_000);
    for (let i = 0; i < count; i++) {
      await audit.record({
        actor: 'coordinator',
        action: `step.${i}`,
        inputDigest: digestOf(String(i)),
        result: 'ok',
      });
    }
    await store.close();
    return url;
  }
  function tamper(url: string, sqlText: string) {
    const file = new SQLite(url.slice('sqlite:'.length));
    file.exec(sqlText);
    file.close();
  }
  async function verify(url: string) {
    const store = await openDatabase(url);
    try {
      return await verifyAuditLog(store);
    } finally {
      await store.close();
    }
  }

  test('untouched chain verifies', async () => {
    assert.deepEqual(await verify(await seeded(5)), { ok: true, records: 5 });
  });
  test('an edited field is detected at its seq', async () => {
    const url = await seeded(5);
    tamper(url, `update audit_log set result = 'denied' where seq = 3`);
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 3);
    assert.match(v.reason!, /edited/);
  });
  test('an edited record with a recomputed own hash breaks the next link', async () => {
    const url = await seeded(5);
    const store = await openDatabase(url);
    const row = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', 2)
      .executeTakeFirstOrThrow();
    const { hashAuditRow } = await import('./audit-log.ts');
    const { hash: _old, ...rest } = row;
    const forged = { ...rest, actor: 'someone-else' };
    await store.db
      .updateTable('audit_log')
      .set({ actor: forged.actor, hash: hashAuditRow(forged) })
      .where('seq', '=', 2)
      .execute();
    await store.close();
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 3);
  });
  test('a deleted middle record is detected as a gap', async () => {
    const url = await seeded(5);
    tamper(url, `delete from audit_log where seq = 2`);
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 2);
    assert.match(v.reason!, /deleted/);
  });
  test('deleting the newest records is detected through the head', async () => {
    const url = await seeded(5);
    tamper(url, `delete from audit_log where seq >= 4`);
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 4);
  });
  test('a deleted head is detected, and appends then refuse instead of forking', async () => {
    const url = await seeded(3);
    tamper(url, `delete from audit_head`);
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.match(v.reason!, /head is missing/);
    const store = await openDatabase(url);
    try {
      await assert.rejects(
        new AuditLog(store).record({ actor: 'x', action: 'y', inputDigest: digestOf('z'), result: 'ok' }),
        (e) => isFalconerError(e, 'AUDIT_APPEND_FAILED'),
      );
    } finally {
      await store.close();
    }
  });
  test('reordering (swapping two records seq) is detected', async () => {
    const url = await seeded(5);
    tamper(
      url,
      `update audit_log set seq = -2 where seq = 2; update audit_log set seq = 2 where seq = 3; update audit_log set seq = 3 where seq = -2;`,
    );
    const v = await verify(url);
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 2);
  });
  test("a record appended behind the log's back is detected", async () => {
    const url = await seeded(3);
    tamper(
      url,
      `insert into audit_log select 4, at, actor, 'forged', input_digest, result, trace_id, detail, hash, hash from audit_log where seq = 3`,
    );
    const v = await verify(url);
    assert.equal(v.ok, false);
  });
});
