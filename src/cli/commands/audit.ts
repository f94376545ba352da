/**
 * `falconer audit verify`: walks the hash-chained audit log and reports the
 * first record that was edited, deleted, inserted or reordered (exit 1), and
 * `falconer audit list`: prints records (optionally of one trace).
 *
 * The database is `--db`, else the coordinator's configured database, else
 * `sqlite:<dataDir>/coordinator.db`. The database is opened without
 * migrating it, and a missing SQLite file is an error (never created here).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { CoordinatorConfigSchema, resolveCoordinatorConfig } from '../../agents/coordinator/config.ts';
import { loadConfig } from '../../config/load.ts';
import { FalconerError } from '../../errors.ts';
import type { AuditVerification } from '../../store/audit-log.ts';
import type { Store } from '../../store/db.ts';
import { integer } from '../options.ts';
import type { CommandRegistrar } from '../registry.ts';

interface DbOptions {
  db?: string;
  config?: string;
  json?: boolean;
}

export function auditDatabaseUrl(opts: DbOptions): string {
  if (opts.db !== undefined) return opts.db;
  const config = loadConfig({ file: opts.config });
  const block = CoordinatorConfigSchema.parse((config as { coordinator?: unknown }).coordinator ?? {});
  return resolveCoordinatorConfig(block, config.dataDir).databaseUrl;
}

// The store (Kysely, SQLite, pg) loads only when an audit command runs.
async function openExisting(url: string): Promise<Store> {
  const { openDatabase, parseDatabaseUrl } = await import('../../store/db.ts');
  const { dialect, target } = parseDatabaseUrl(url);
  if (dialect === 'sqlite' && !existsSync(target)) {
    throw new FalconerError('IO_ERROR', 'no coordinator database at this path', { path: target });
  }
  return openDatabase(url, { migrate: false });
}

export async function runAuditVerify(opts: DbOptions): Promise<AuditVerification> {
  const store = await openExisting(auditDatabaseUrl(opts));
  const { verifyAuditLog } = await import('../../store/audit-log.ts');
  try {
    return await verifyAuditLog(store);
  } finally {
    await store.close();
  }
}

export const registerAuditCommands: CommandRegistrar = (program: Command) => {
  const audit = program.command('audit').description('The hash-chained audit log');
  audit
    .command('verify')
    .description('Check the audit chain; exit 1 when a record was edited, deleted, inserted or reordered')
    .option(
      '--db <url>',
      'database: a SQLite path, sqlite:<path> or postgres://… (default: the coordinator’s)',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--json', 'print {ok, records, firstBadSeq?, reason?} as JSON')
    .action(async (opts: DbOptions) => {
      const result = await runAuditVerify(opts);
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (result.ok) process.stdout.write(`audit log intact: ${result.records} records\n`);
      else process.stdout.write(`audit log TAMPERED at record ${result.firstBadSeq}: ${result.reason}\n`);
      if (!result.ok) process.exitCode = 1;
    });
  audit
    .command('list')
    .description('Print audit records in order (NDJSON with --json)')
    .option('--db <url>', 'database (default: the coordinator’s)')
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--trace <id>', 'only the records of this trace id')
    .option('--after <seq>', 'only records after this sequence number', integer(0))
    .option('--limit <n>', 'at most this many records', integer(1), 100)
    .option('--json', 'one JSON record per line')
    .action(async (opts: DbOptions & { trace?: string; after?: number; limit: number }) => {
      const store = await openExisting(auditDatabaseUrl(opts));
      const { readAuditLog } = await import('../../store/audit-log.ts');
      try {
        const records = await readAuditLog(store, {
          limit: opts.limit,
          ...(opts.trace !== undefined ? { traceId: opts.trace } : {}),
          ...(opts.after !== undefined ? { afterSeq: opts.after } : {}),
        });
        for (const r of records) {
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(r)}\n`
              : `${r.seq}\t${new Date(r.at).toISOString()}\t${r.actor}\t${r.action}\t${r.result}\t${r.traceId ?? '-'}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
};
