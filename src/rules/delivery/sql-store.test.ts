/**
 * SqlRuleProposalStore on SQLite and on PostgreSQL (a throwaway cluster):
 * round trip, one proposal per incident, and an atomic decide — a second
 * approval fails with RULES_PROPOSAL_STATE, also when two processes race.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requireComponent } from '../../../test/support/components.ts';
import { PROJECT_ROOT } from '../../../test/support/paths.ts';
import { isFalconerError } from '../../errors.ts';
import { openDatabase, type Store } from '../../store/db.ts';
import {
  createDatabase,
  findPostgresBin,
  startPgCluster,
  type PgCluster,
} from '../../store/test-support/pg-cluster.ts';
import type { StoredProposal } from './approval.ts';
import { SqlRuleProposalStore } from './sql-store.ts';

function proposal(id: string, incidentId: string): StoredProposal {
  return {
    id,
    incidentId,
    yaml: `- rule: Falconer ${incidentId}\n  desc: d\n  condition: proc.name = xmrig\n  output: o\n  priority: Critical\n`,
    rules: [
      {
        name: `Falconer ${incidentId}`,
        desc: 'd',
        condition: 'proc.name = xmrig',
        output: 'o',
        priority: 'Critical',
        tags: ['falconer'],
        source: 'syscall',
      },
    ],
    report: {
      valid: true,
      issues: [],
      rules: [`Falconer ${incidentId}`],
      incident: { events: 3, hits: 3, missed: 0 },
      baseline: { events: 1000, hits: 0, rate: 0, maxRate: 0.001, exampleIds: [] },
      perRule: [],
      accepted: true,
      problems: [],
    },
    status: 'pending',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, Number(id.replace(/\D/g, '')) || 0)).toISOString(),
  };
}

const code = (err: unknown): string => (isFalconerError(err) ? err.code : String(err));

/** Two processes approve the same proposal at the same moment: returns their answers. */
async function race(url: string, id: string): Promise<string[]> {
  const child = join(PROJECT_ROOT, 'src/rules/delivery/testing/decide-child.ts');
  const kids = ['alice', 'bob'].map((by) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, url, id, by], { cwd: PROJECT_ROOT });
    let out = '';
    const ready = new Promise<void>((resolve) =>
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      }),
    );
    const done = new Promise<string>((resolve, reject) => {
      p.on('error', reject);
      p.on('close', () => resolve(out.replace('ready', '').trim()));
    });
    return { p, ready, done };
  });
  await Promise.all(kids.map((k) => k.ready));
  for (const k of kids) k.p.stdin.end('go\n');
  return (await Promise.all(kids.map((k) => k.done))).sort();
}

async function exercise(store: Store, url: string): Promise<void> {
  const s = new SqlRuleProposalStore(store);
  await s.put(proposal('p1', 'inc-1'));
  await s.put(proposal('p2', 'inc-2'));
  await assert.rejects(s.put(proposal('p3', 'inc-1')), (e) => code(e) === 'RULES_PROPOSAL_STATE');
  assert.deepEqual(await s.get('p1'), proposal('p1', 'inc-1'));
  assert.equal((await s.findByIncident('inc-2'))?.id, 'p2');
  assert.equal(await s.get('nope'), undefined);
  assert.deepEqual(
    (await s.list('pending')).map((p) => p.id),
    ['p1', 'p2'],
  );

  const decided = await s.decide('p2', {
    status: 'rejected',
    by: 'alice',
    at: '2026-01-02T00:00:00.000Z',
    reason: 'noisy',
  });
  assert.equal(decided.status, 'rejected');
  assert.equal(decided.reason, 'noisy');
  await assert.rejects(
    s.decide('p2', { status: 'approved', by: 'bob', at: '2026-01-02T00:00:01.000Z' }),
    (e) => code(e) === 'RULES_PROPOSAL_STATE',
  );
  await assert.rejects(
    s.decide('nope', { status: 'approved', by: 'bob', at: '2026-01-02T00:00:01.000Z' }),
    (e) => code(e) === 'RULES_PROPOSAL_NOT_FOUND',
  );
  // Concurrent approvals in one process: one wins.
  const results = await Promise.allSettled([
    s.decide('p1', { status: 'approved', by: 'alice', at: '2026-01-02T00:00:02.000Z' }),
    s.decide('p1', { status: 'approved', by: 'bob', at: '2026-01-02T00:00:02.000Z' }),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const loser = results.find((r) => r.status === 'rejected');
  assert.equal(code(loser?.reason), 'RULES_PROPOSAL_STATE');

  const approved = (await s.get('p1'))!;
  approved.delivery = { configMapFile: '/tmp/x.yaml' };
  await s.update(approved);
  assert.deepEqual((await s.get('p1'))?.delivery, { configMapFile: '/tmp/x.yaml' });
  assert.deepEqual(
    (await s.list('approved')).map((p) => p.id),
    ['p1'],
  );
  await assert.rejects(s.update(proposal('p9', 'inc-9')), (e) => code(e) === 'RULES_PROPOSAL_NOT_FOUND');

  // Two processes race to approve: exactly one wins, the other is told the state.
  await s.put(proposal('p4', 'inc-4'));
  assert.deepEqual(await race(url, 'p4'), ['RULES_PROPOSAL_STATE', 'ok']);
  assert.equal((await s.get('p4'))?.status, 'approved');
}

describe('SqlRuleProposalStore', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'falconer-rule-store-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('SQLite: round trip, one per incident, atomic decide (also across two processes)', async () => {
    const url = `sqlite:${join(dir, 'rules.db')}`;
    const store = await openDatabase(url);
    try {
      await exercise(store, url);
    } finally {
      await store.close();
    }
  });

  describe('PostgreSQL', () => {
    const bin = findPostgresBin();
    let cluster: PgCluster | undefined;
    before(async () => {
      if (bin) cluster = await startPgCluster(bin);
    });
    after(async () => {
      await cluster?.stop();
    });
    test('PostgreSQL: round trip, one per incident, atomic decide (also across two processes)', async (t) => {
      if (!requireComponent(t, 'postgresql', bin !== undefined, 'apt-get install -y postgresql')) return;
      const url = await createDatabase(cluster!.url, 'rules');
      const store = await openDatabase(url);
      try {
        await exercise(store, url);
      } finally {
        await store.close();
      }
    });
  });
});
