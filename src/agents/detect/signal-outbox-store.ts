/**
 * The signal outbox's journal in detect's state database (`<dataDir>/detect.db`):
 * one row per signal with a report not yet acknowledged by the coordinator.
 * A newer revision of a signal replaces its row (coalescing survives a
 * restart too); an acknowledgement deletes the row only if it is still the
 * revision that was sent. After a crash, `load()` gives back exactly what
 * was pending, with the same message ids, so the coordinator (idempotent by
 * message id) sees every report once.
 *
 * The table is created here (IF NOT EXISTS) rather than in the shared
 * migrations: only detect has it, and it holds nothing but in-flight rows.
 */
import { sql, type Kysely } from 'kysely';
import type { Store } from '../../store/db.ts';
import type { SignalReportInput } from '../contracts.ts';

export const SIGNAL_OUTBOX_TABLE = 'detect_signal_outbox';

interface SignalOutboxTable {
  signal_id: string;
  revision: number;
  message_id: string;
  /** SignalReportInput JSON (kind already merged: an unsent `opened` stays `opened`). */
  report: string;
  /** Insertion order across restarts: send order. */
  seq: number;
}

type OutboxDb = Kysely<{ [SIGNAL_OUTBOX_TABLE]: SignalOutboxTable }>;

export interface JournalEntry {
  readonly signalId: string;
  readonly revision: number;
  readonly messageId: string;
  readonly report: SignalReportInput;
}

/** What the outbox needs from durable storage; writes are applied in call order. */
export interface OutboxJournal {
  /** Upserts the newest revision of each signal (one transaction). */
  save(entries: readonly JournalEntry[]): Promise<void>;
  /** Deletes the signal's row if it still holds this revision (the acknowledged one). */
  remove(signalId: string, revision: number): Promise<void>;
  /** Every pending row, in send order. */
  load(): Promise<JournalEntry[]>;
}

export class SqlOutboxJournal implements OutboxJournal {
  private readonly db: OutboxDb;
  private seq = 0;

  private constructor(store: Store) {
    this.db = store.db as unknown as OutboxDb;
  }

  static async open(store: Store): Promise<SqlOutboxJournal> {
    const journal = new SqlOutboxJournal(store);
    await journal.db.schema
      .createTable(SIGNAL_OUTBOX_TABLE)
      .ifNotExists()
      .addColumn('signal_id', 'varchar(200)', (c) => c.primaryKey())
      .addColumn('revision', 'integer', (c) => c.notNull())
      .addColumn('message_id', 'varchar(400)', (c) => c.notNull())
      .addColumn('report', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    const top = await journal.db
      .selectFrom(SIGNAL_OUTBOX_TABLE)
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    journal.seq = Number(top?.seq ?? 0);
    return journal;
  }

  async save(entries: readonly JournalEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const e of entries) {
        const row: SignalOutboxTable = {
          signal_id: e.signalId,
          revision: e.revision,
          message_id: e.messageId,
          report: JSON.stringify(e.report),
          seq: ++this.seq,
        };
        // Keeps the first seq of the signal: an updated signal keeps its place in the send order.
        await trx
          .insertInto(SIGNAL_OUTBOX_TABLE)
          .values(row)
          .onConflict((oc) =>
            oc.column('signal_id').doUpdateSet({
              revision: row.revision,
              message_id: row.message_id,
              report: row.report,
            }),
          )
          .execute();
      }
    });
  }

  async remove(signalId: string, revision: number): Promise<void> {
    await this.db
      .deleteFrom(SIGNAL_OUTBOX_TABLE)
      .where('signal_id', '=', signalId)
      .where('revision', '=', revision)
      .execute();
  }

  async load(): Promise<JournalEntry[]> {
    const rows = await this.db.selectFrom(SIGNAL_OUTBOX_TABLE).selectAll().orderBy('seq', 'asc').execute();
    return rows.map((r) => ({
      signalId: r.signal_id,
      revision: Number(r.revision),
      messageId: r.message_id,
      report: JSON.parse(r.report) as SignalReportInput,
    }));
  }

  /** Rows pending (for tests and metrics). */
  async count(): Promise<number> {
    const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(SIGNAL_OUTBOX_TABLE)}`.execute(
      this.db,
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}
