/**
 * openDatabase(url): the coordinator's state behind Kysely, on SQLite
 * (better-sqlite3, in-process: a file path or `sqlite:<path>` URL) or
 * PostgreSQL (`postgres://` / `postgresql://` via pg). The same queries and
 * migrations run on both; the migrations are applied on open.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { FalconerError } from '../errors.ts';
import { migrationProvider } from './migrations.ts';
import type { Database } from './schema.ts';
import './errors.ts';
import { cachingDatabase } from './statement-cache.ts';

export type StoreDialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  /** The URL with any password masked, for logs. */
  readonly displayUrl: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** SQLite: how long a writer waits for a lock held by another process (default 5000 ms). */
  busyTimeoutMs?: number;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

const PG_INT8_OID = 20;
const PG_NUMERIC_OID = 1700;

/** Epoch milliseconds and counts fit in a double: read BIGINT as a number, not a string. */
function pgTypes(types: typeof pg.types) {
  return {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === PG_INT8_OID || oid === PG_NUMERIC_OID) return (value: string) => Number(value);
      return types.getTypeParser(oid, format);
    },
  };
}

export function parseDatabaseUrl(url: string): { dialect: StoreDialect; target: string } {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) return { dialect: 'postgres', target: trimmed };
  if (/^sqlite:/i.test(trimmed)) {
    const path = trimmed.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (path === '') throw new FalconerError('STORE_BAD_URL', 'sqlite: URL without a file path', {});
    return { dialect: 'sqlite', target: path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new FalconerError(
      'STORE_BAD_URL',
      'unsupported database URL scheme (use a file path, sqlite:<path> or postgres://…)',
      { scheme: trimmed.slice(0, trimmed.indexOf(':')) },
    );
  }
  if (trimmed === '') throw new FalconerError('STORE_BAD_URL', 'empty database URL', {});
  return { dialect: 'sqlite', target: trimmed };
}

export function maskDatabaseUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Store> {
  const { dialect, target } = parseDatabaseUrl(url);
  let db: Kysely<Database>;
  if (dialect === 'sqlite') {
    let sqlite: SQLite.Database;
    if (target !== ':memory:') mkdirSync(dirname(resolve(target)), { recursive: true });
    try {
      sqlite = new SQLite(target, { timeout: opts.busyTimeoutMs ?? 5000 });
    } catch (err) {
      throw new FalconerError('IO_ERROR', `cannot open the SQLite database: ${(err as Error).message}`, {
        path: target,
      });
    }
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes in WAL mode.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingDatabase(sqlite) }) });
  } else {
    // pg is loaded only for PostgreSQL: SQLite agents do not pay for it at start.
    const { default: pgModule } = await import('pg');
    const pool = new pgModule.Pool({
      connectionString: target,
      max: opts.poolSize ?? 10,
      types: pgTypes(pgModule.types),
    });
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  const store: Store = {
    db,
    dialect,
    displayUrl: maskDatabaseUrl(url),
    close: () => db.destroy(),
  };
  if (opts.migrate ?? true) {
    try {
      await migrate(store);
    } catch (err) {
      await db.destroy();
      throw err;
    }
  }
  return store;
}

export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({
    db: store.db,
    provider: migrationProvider,
    migrationTableName: 'falconer_migrations',
    migrationLockTableName: 'falconer_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new FalconerError(
      'STORE_MIGRATION_FAILED',
      `database migration failed: ${error instanceof Error ? error.message : String(error)}`,
      { url: store.displayUrl, migration: failed },
      { cause: error },
    );
  }
}
