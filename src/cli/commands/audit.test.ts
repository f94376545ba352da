import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { Command } from 'commander';
import { AuditLog, digestOf } from '../../store/audit-log.ts';
import { openDatabase } from '../../store/db.ts';
import { registerAuditCommands } from './audit.ts';

const tmp = mkdtempSync(join(tmpdir(), 'falconer-audit-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `falconer audit …` in process; returns stdout and the exit code it set. */
async function cli(args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command('falconer').exitOverride();
  registerAuditCommands(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'falconer', ...args]);
    return { out, code: Number(process.exitCode ?? 0) };
  } finally {
    process.stdout.write = write;
    process.exitCode = before;
  }
}

test('audit verify: intact (exit 0), then tampered in the SQLite file (exit 1, JSON names the record)', async () => {
  const file = join(tmp, 'coordinator.db');
  const store = await openDatabase(file);
  const audit = new AuditLog(store);
  for (let i = 0; i < 4; i++) {
    await audit.record({
      actor: 'alice',
      action: 'proposal.approve',
      inputDigest: digestOf(String(i)),
      result: 'recorded',
      traceId: '0af7651916cd43dd8448eb211c80319c',
    });
  }
  await store.close();

  const ok = await cli(['audit', 'verify', '--db', `sqlite:${file}`]);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /intact: 4 records/);
  const list = await cli([
    'audit',
    'list',
    '--db',
    file,
    '--json',
    '--trace',
    '0af7651916cd43dd8448eb211c80319c',
  ]);
  assert.equal(list.out.trim().split('\n').length, 4);

  const raw = new SQLite(file);
  raw.prepare(`update audit_log set actor = 'mallory' where seq = 2`).run();
  raw.close();
  const bad = await cli(['audit', 'verify', '--db', file, '--json']);
  assert.equal(bad.code, 1);
  const result = JSON.parse(bad.out) as { ok: boolean; firstBadSeq: number };
  assert.equal(result.ok, false);
  assert.equal(result.firstBadSeq, 2);
});

test('audit verify on a database that does not exist is an error, and creates nothing', async () => {
  const file = join(tmp, 'absent', 'c.db');
  await assert.rejects(cli(['audit', 'verify', '--db', file]), /no coordinator database/);
});
