/**
 * The audit log: append-only and hash-chained. Each record's hash is
 * sha256 over the canonical JSON of the record (its seq, fields and the
 * previous record's hash), so an edited, deleted, inserted or reordered record
 * breaks the chain. A head row (last seq and hash, written in the same
 * transaction as each append) catches the deletion of the newest records.
 *
 * This detects tampering by anyone who edits the database without rewriting
 * every later hash and the head; it is not a signature (someone who rewrites
 * the whole chain consistently is not detected here — ship the head hash
 * elsewhere for that).
 */
import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { FalconerError } from '../errors.ts';
import { canonicalJson } from './canonical-json.ts';
import type { Store } from './db.ts';
import type { AuditLogTable, Database } from './schema.ts';
import './errors.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntry {
  actor: string;
  action: string;
  inputDigest: string;
  result: string;
  traceId?: string;
  detail?: object;
  /** The A2A sink's extra fields; stored (and hashed) inside detail. */
  reason?: string;
  messageId?: string;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  at: number;
  prevHash: string;
  hash: string;
}

/** sha256 hex of anything, via its canonical JSON (strings are hashed as given). */
export function digestOf(input: unknown): string {
  const text = typeof input === 'string' ? input : canonicalJson(input);
  return createHash('sha256').update(text).digest('hex');
}

export function hashAuditRow(row: Omit<AuditLogTable, 'hash'>): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        seq: row.seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        input_digest: row.input_digest,
        result: row.result,
        trace_id: row.trace_id,
        detail: row.detail,
        prev_hash: row.prev_hash,
      }),
    )
    .digest('hex');
}

/** Serializes async work: each call runs after the previous one settled. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/**
 * The persistent audit sink (structurally an A2A `AuditSink`). Appends are
 * serialized in this process; across processes the head row is locked
 * (PostgreSQL) or the write transaction is exclusive (SQLite), and seq is the
 * primary key, so the chain can never fork.
 */
export class AuditLog {
  private readonly queue = new SerialQueue();
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  record(entry: AuditEntry): Promise<void> {
    return this.append(entry).then(() => undefined);
  }

  append(entry: AuditEntry): Promise<AuditRecord> {
    return this.queue.run(async () => {
      try {
        return await this.store.db
          .transaction()
          .execute((trx) => appendIn(trx, this.store, entry, this.clock()));
      } catch (err) {
        throw new FalconerError(
          'AUDIT_APPEND_FAILED',
          `cannot append to the audit log: ${(err as Error).message}`,
          { action: entry.action, actor: entry.actor },
          { cause: err },
        );
      }
    });
  }
}

async function appendIn(
  trx: Kysely<Database>,
  store: Store,
  entry: AuditEntry,
  at: number,
): Promise<AuditRecord> {
  if (store.dialect === 'sqlite') {
    // Take the write lock now, so a concurrent writer in another process waits (busy timeout) instead of forking.
    await sql`update audit_head set seq = seq where id = 1`.execute(trx);
  }
  let headQuery = trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (store.dialect === 'postgres') headQuery = headQuery.forUpdate();
  let head = await headQuery.executeTakeFirst();
  if (!head) {
    // The migration creates the head; it may only be missing from an empty log.
    const any = await trx.selectFrom('audit_log').select('seq').limit(1).executeTakeFirst();
    if (any) throw new Error('the audit head row is missing (tampering?): run `falconer audit verify`');
    await trx.insertInto('audit_head').values({ id: 1, seq: 0, hash: GENESIS_HASH }).execute();
    head = { seq: 0, hash: GENESIS_HASH };
  }
  const row = {
    seq: Number(head.seq) + 1,
    at,
    actor: entry.actor,
    action: entry.action,
    input_digest: entry.inputDigest,
    result: entry.result,
    trace_id: entry.traceId ?? null,
    detail: detailOf(entry),
    prev_hash: head.hash,
  };
  const hash = hashAuditRow(row);
  await trx
    .insertInto('audit_log')
    .values({ ...row, hash })
    .execute();
  await trx.updateTable('audit_head').set({ seq: row.seq, hash }).where('id', '=', 1).execute();
  return {
    seq: row.seq,
    at,
    actor: row.actor,
    action: row.action,
    inputDigest: row.input_digest,
    result: row.result,
    ...(entry.traceId !== undefined ? { traceId: entry.traceId } : {}),
    ...(row.detail !== null ? { detail: JSON.parse(row.detail) as object } : {}),
    prevHash: row.prev_hash,
    hash,
  };
}

function detailOf(entry: AuditEntry): string | null {
  const extra = {
    ...(entry.reason !== undefined ? { reason: entry.reason } : {}),
    ...(entry.messageId !== undefined ? { messageId: entry.messageId } : {}),
  };
  if (entry.detail === undefined && Object.keys(extra).length === 0) return null;
  return canonicalJson({ ...entry.detail, ...extra });
}

export interface AuditVerification {
  ok: boolean;
  /** Records read. */
  records: number;
  firstBadSeq?: number;
  reason?: string;
}

/** Walks the whole chain in seq order (in pages) and checks every link, then the head. */
export async function verifyAuditLog(store: Store, pageSize = 1000): Promise<AuditVerification> {
  const { db } = store;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let records = 0;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq', 'asc')
      .limit(pageSize)
      .execute();
    for (const raw of rows) {
      const row = { ...raw, seq: Number(raw.seq), at: Number(raw.at) };
      records++;
      if (row.seq !== expectedSeq) {
        return bad(records, expectedSeq, `record ${expectedSeq} is missing (next is ${row.seq}): deleted`);
      }
      if (row.prev_hash !== prevHash) {
        return bad(
          records,
          row.seq,
          `record ${row.seq} does not link to record ${row.seq - 1}: reordered or replaced`,
        );
      }
      const { hash, ...rest } = row;
      if (hashAuditRow(rest) !== hash) {
        return bad(records, row.seq, `record ${row.seq} does not match its hash: edited`);
      }
      prevHash = hash;
      expectedSeq++;
    }
    if (rows.length < pageSize) break;
  }
  const lastSeq = expectedSeq - 1;
  const head = await db
    .selectFrom('audit_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!head) {
    if (lastSeq === 0) return { ok: true, records };
    return bad(records, 1, 'the audit head is missing');
  }
  const headSeq = Number(head.seq);
  if (headSeq > lastSeq) {
    return bad(
      records,
      lastSeq + 1,
      `records ${lastSeq + 1}..${headSeq} are missing: the newest records were deleted`,
    );
  }
  if (headSeq < lastSeq || head.hash !== prevHash) {
    return bad(
      records,
      headSeq + 1,
      `the audit head (seq ${headSeq}) does not match the last record (seq ${lastSeq})`,
    );
  }
  return { ok: true, records };
}

function bad(records: number, firstBadSeq: number, reason: string): AuditVerification {
  return { ok: false, records, firstBadSeq, reason };
}

export async function readAuditLog(
  store: Store,
  opts: { traceId?: string; limit?: number; afterSeq?: number } = {},
): Promise<AuditRecord[]> {
  let q = store.db
    .selectFrom('audit_log')
    .selectAll()
    .orderBy('seq', 'asc')
    .limit(opts.limit ?? 1000);
  if (opts.traceId !== undefined) q = q.where('trace_id', '=', opts.traceId);
  if (opts.afterSeq !== undefined) q = q.where('seq', '>', opts.afterSeq);
  const rows = await q.execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    inputDigest: r.input_digest,
    result: r.result,
    ...(r.trace_id !== null ? { traceId: r.trace_id } : {}),
    ...(r.detail !== null ? { detail: JSON.parse(r.detail) as object } : {}),
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}
