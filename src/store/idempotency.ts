/**
 * Processed A2A messages: the recorded output of each handled messageId, so a
 * retried message is answered from here instead of being done again.
 * Structurally an A2A `IdempotencyStore` (src/a2a/idempotency.ts): get
 * answers `{ skill, output }`.
 */
import type { Kysely } from 'kysely';
import type { Store } from './db.ts';
import type { Database } from './schema.ts';

export class SqlIdempotencyStore {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(messageId: string): Promise<{ skill: string; output: unknown } | undefined> {
    const row = await this.store.db
      .selectFrom('processed_messages')
      .select(['skill', 'output'])
      .where('message_id', '=', messageId)
      .executeTakeFirst();
    return row ? { skill: row.skill, output: JSON.parse(row.output) as unknown } : undefined;
  }

  async put(messageId: string, skill: string, output: unknown): Promise<void> {
    await putProcessed(this.store.db, messageId, skill, output, this.clock());
  }

  /** Forgets records older than the cut-off (retries come within minutes; the table must not grow for ever). */
  async prune(olderThanMs: number): Promise<number> {
    const result = await this.store.db
      .deleteFrom('processed_messages')
      .where('at', '<', this.clock() - olderThanMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export async function getProcessed(db: Kysely<Database>, messageId: string): Promise<unknown | undefined> {
  const row = await db
    .selectFrom('processed_messages')
    .select('output')
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return row ? (JSON.parse(row.output) as unknown) : undefined;
}

/** First writer wins: a second put for the same messageId keeps the first output. */
export async function putProcessed(
  db: Kysely<Database>,
  messageId: string,
  skill: string,
  output: unknown,
  at: number,
): Promise<void> {
  await db
    .insertInto('processed_messages')
    .values({ message_id: messageId, skill, output: JSON.stringify(output ?? null), at })
    .onConflict((oc) => oc.column('message_id').doNothing())
    .execute();
}
