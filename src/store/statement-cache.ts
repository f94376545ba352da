/**
 * Kysely's SQLite driver prepares every statement again on every execution;
 * on the coordinator that was about a tenth of its CPU under load. This wraps
 * the better-sqlite3 database so that a statement is prepared once per SQL
 * text and reused. Bounded: the least recently used statement goes when more
 * than `capacity` distinct texts are cached (an `in (?, ?, …)` list makes a new
 * text per length). Kysely runs one query at a time on SQLite (a single
 * connection behind a mutex), so a cached statement is never in use twice.
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export const STATEMENT_CACHE_CAPACITY = 256;

export interface CachingDatabase extends SqliteDatabase {
  /** Statements prepared so far (a cache miss each), for tests and metrics. */
  readonly prepared: number;
  readonly cached: number;
}

export function cachingDatabase(db: SqliteDatabase, capacity = STATEMENT_CACHE_CAPACITY): CachingDatabase {
  const statements = new Map<string, SqliteStatement>();
  let prepared = 0;
  return {
    get prepared() {
      return prepared;
    },
    get cached() {
      return statements.size;
    },
    prepare(sql: string): SqliteStatement {
      const hit = statements.get(sql);
      if (hit !== undefined) {
        // Most recently used last: Map keeps insertion order.
        statements.delete(sql);
        statements.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql);
      prepared++;
      statements.set(sql, stmt);
      if (statements.size > capacity) statements.delete(statements.keys().next().value as string);
      return stmt;
    },
    close(): void {
      statements.clear();
      db.close();
    },
  };
}
