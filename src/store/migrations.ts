/**
 * The schema, as Kysely migrations kept in code (no migration files to ship).
 * Only portable column types and the schema builder, so the same migrations
 * run on SQLite and PostgreSQL. Append new migrations; never edit old ones.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

const MIGRATIONS: Record<string, Migration> = {
  '0001_coordinator': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('incidents')
        .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('workload_key', 'varchar(600)', (c) => c.notNull())
        .addColumn('workload', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('severity', 'varchar(16)', (c) => c.notNull())
        .addColumn('priority_level', 'integer', (c) => c.notNull())
        .addColumn('trace_id', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_signal_at', 'bigint', (c) => c.notNull())
        .addColumn('analysis', 'text')
        .addColumn('proposals', 'text')
        .addColumn('executions', 'text')
        .addColumn('approval_expires_at', 'bigint')
        .addColumn('reason', 'text')
        .addColumn('verdict', 'varchar(32)')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('incidents_workload_status')
        .on('incidents')
        .columns(['workload_key', 'status'])
        .execute();
      await db.schema.createIndex('incidents_status').on('incidents').column('status').execute();

      await db.schema
        .createTable('incident_signals')
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('signal_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('incident_signals_pk', ['incident_id', 'signal_id'])
        .execute();
      await db.schema
        .createIndex('incident_signals_signal')
        .on('incident_signals')
        .column('signal_id')
        .execute();

      await db.schema
        .createTable('incident_timeline')
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('from_status', 'varchar(32)')
        .addColumn('to_status', 'varchar(32)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(200)', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addPrimaryKeyConstraint('incident_timeline_pk', ['incident_id', 'seq'])
        .execute();

      await db.schema
        .createTable('processed_messages')
        .addColumn('message_id', 'varchar(400)', (c) => c.primaryKey())
        .addColumn('skill', 'varchar(100)', (c) => c.notNull())
        .addColumn('output', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(200)', (c) => c.notNull())
        .addColumn('action', 'varchar(200)', (c) => c.notNull())
        .addColumn('input_digest', 'varchar(64)', (c) => c.notNull())
        .addColumn('result', 'varchar(200)', (c) => c.notNull())
        .addColumn('trace_id', 'varchar(32)')
        .addColumn('detail', 'text')
        .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_trace').on('audit_log').column('trace_id').execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'varchar(64)', (c) => c.notNull())
        .execute();
      // The head exists from the start, so concurrent first appends lock one row instead of racing to create it.
      await sql`insert into audit_head (id, seq, hash) values (1, 0, ${'0'.repeat(64)})`.execute(db);

      await db.schema
        .createTable('used_link_tokens')
        .addColumn('jti', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('used_at', 'bigint', (c) => c.notNull())
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('proposal_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('action', 'varchar(16)', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('dedupe_key', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .execute();

      await db.schema
        .createTable('approvals')
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('proposal_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('by', 'varchar(200)', (c) => c.notNull())
        .addColumn('decision', 'varchar(16)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('via', 'varchar(16)', (c) => c.notNull())
        .addPrimaryKeyConstraint('approvals_pk', ['incident_id', 'proposal_id', 'by'])
        .execute();

      await db.schema
        .createTable('outbox')
        .addColumn('message_id', 'varchar(400)', (c) => c.primaryKey())
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('skill', 'varchar(100)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('done_at', 'bigint')
        .addColumn('output', 'text')
        .execute();
      await db.schema.createIndex('outbox_status').on('outbox').column('status').execute();
    },
  },
  // Rule proposals (coordinator: one per incident, decided once) and the approved rules detect applies.
  '0002_rule_proposals': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('rule_proposals')
        .addColumn('id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('incident_id', 'varchar(200)', (c) => c.notNull().unique())
        .addColumn('status', 'varchar(16)', (c) => c.notNull())
        .addColumn('yaml', 'text', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(40)', (c) => c.notNull())
        .addColumn('decided_at', 'varchar(40)')
        .addColumn('decided_by', 'varchar(200)')
        .addColumn('reason', 'text')
        .addColumn('delivery', 'text')
        .execute();
      await db.schema.createIndex('rule_proposals_status').on('rule_proposals').column('status').execute();
      await db.schema
        .createTable('rule_requests')
        .addColumn('incident_id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
        .addColumn('proposal_id', 'varchar(200)')
        .addColumn('reason', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('detect_rules')
        .addColumn('proposal_id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('yaml', 'text', (c) => c.notNull())
        .addColumn('names', 'text', (c) => c.notNull())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};
