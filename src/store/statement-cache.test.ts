import assert from 'node:assert/strict';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { cachingDatabase } from './statement-cache.ts';

interface Db {
  items: { id: number; name: string };
}

function open(capacity?: number) {
  const sqlite = new SQLite(':memory:');
  const cache = cachingDatabase(sqlite, capacity);
  const db = new Kysely<Db>({ dialect: new SqliteDialect({ database: cache }) });
  return { sqlite, cache, db };
}

test('a statement is prepared once per SQL text and reused, with the right results each time', async () => {
  const { cache, db } = open();
  await sql`create table items (id integer primary key, name text not null)`.execute(db);
  const before = cache.prepared;
  for (let i = 1; i <= 50; i++)
    await db
      .insertInto('items')
      .values({ id: i, name: `n${i}` })
      .execute();
  for (let i = 1; i <= 50; i++) {
    const row = await db.selectFrom('items').select('name').where('id', '=', i).executeTakeFirst();
    assert.equal(row?.name, `n${i}`);
  }
  const updated = await db.updateTable('items').set({ name: 'x' }).where('id', '>', 40).executeTakeFirst();
  assert.equal(updated.numUpdatedRows, 10n);
  // One insert text, one select text, one update text.
  assert.equal(cache.prepared - before, 3);
  // Transactions (begin / commit / rollback) reuse theirs too, and a rollback undoes.
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.deleteFrom('items').execute();
      throw new Error('undo');
    }),
    /undo/,
  );
  const count = await db
    .selectFrom('items')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  assert.equal(Number(count?.n), 50);
  await db.destroy();
});

test('the cache is bounded: the least recently used statement is dropped, and re-prepared when needed', async () => {
  const { cache, db } = open(4);
  await sql`create table items (id integer primary key, name text not null)`.execute(db);
  // `in (?, …)` lists of 1..10 ids: ten distinct texts through a cache of four.
  for (let k = 1; k <= 10; k++) {
    const ids = Array.from({ length: k }, (_, i) => i + 1);
    await db.selectFrom('items').selectAll().where('id', 'in', ids).execute();
    assert.ok(cache.cached <= 4);
  }
  const prepared = cache.prepared;
  await db.selectFrom('items').selectAll().where('id', 'in', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).execute();
  assert.equal(cache.prepared, prepared, 'the most recent text is still cached');
  await db.selectFrom('items').selectAll().where('id', 'in', [1]).execute();
  assert.equal(cache.prepared, prepared + 1, 'an evicted text is prepared again');
  await db.destroy();
});

test('closing closes the database', async () => {
  const { sqlite, db } = open();
  await sql`select 1`.execute(db); // Kysely opens the driver on the first query
  await db.destroy();
  assert.equal(sqlite.open, false);
});
