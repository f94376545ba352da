/**
 * Detect's rule skills on a real event store and a real SQLite state
 * database: rules.propose keeps a good candidate, replaces a noisy or invalid
 * one by a synthesized rule, answers none without events; approved rules
 * persist across a reopen, tag matching events and forward what the gate
 * did not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import { isFalconerError } from '../../../errors.ts';
import { normalizeAlert } from '../../../events/normalize.ts';
import type { NormalizedEvent } from '../../../events/types.ts';
import type { GateDecision } from '../../../gate/gate.ts';
import { EventStore } from '../../../store/event-store.ts';
import { openDatabase } from '../../../store/db.ts';
import type { EventWire, RulesProposeInput } from '../../contracts.ts';
import { toWorkloadWire } from '../../event-wire.ts';
import { ApprovedRules } from './approved.ts';
import { RuleForwarder } from './forwarder.ts';
import { proposeRule } from './propose.ts';
import { ProposalWorker } from './proposal-worker.ts';

const dir = mkdtempSync(join(tmpdir(), 'falconer-detect-rules-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function alert(
  pod: string,
  proc: string,
  cmdline: string,
  atMs: number,
  priority = 'Notice',
): NormalizedEvent {
  return normalizeAlert({
    hostname: 'worker-1',
    output: `${proc} ran (${cmdline})`,
    priority,
    rule: proc === 'xmrig' ? 'Known Cryptominer Process Executed' : 'Process spawned',
    source: 'syscall',
    tags: ['container'],
    time: new Date(atMs).toISOString(),
    output_fields: {
      'evt.type': 'execve',
      'k8s.ns.name': 'shop',
      'k8s.pod.name': pod,
      'container.image.repository': 'docker.io/library/nginx',
      'proc.name': proc,
      'proc.cmdline': cmdline,
      'proc.pname': proc === 'xmrig' ? 'sh' : 'nginx',
    },
  });
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const BENIGN = ['nginx', 'curl', 'sh', 'python3', 'logrotate'];

function storeWithAttack(benign = 2000): { store: EventStore; attack: NormalizedEvent[] } {
  const store = new EventStore();
  const events: NormalizedEvent[] = [];
  for (let i = 0; i < benign; i++) {
    const proc = BENIGN[i % BENIGN.length]!;
    events.push(alert(`web-${i % 3}`, proc, `${proc} --run ${i % 7}`, T0 + i * 50));
  }
  const attack = [0, 1, 2].map((i) =>
    alert('web-1', 'xmrig', 'xmrig -o stratum+tcp://pool:3333', T0 + 60_000 + i),
  );
  store.add([...events, ...attack]);
  return { store, attack };
}

function input(attack: readonly NormalizedEvent[], candidate?: string): RulesProposeInput {
  return {
    incidentId: 'inc-1',
    workload: toWorkloadWire(attack[0]!.workload),
    eventIds: attack.map((e) => e.id),
    ...(candidate !== undefined ? { candidate } : {}),
  };
}

const rule = (condition: string, name = 'Analyst miner rule') =>
  `- rule: ${name}\n  desc: from the analyst\n  condition: ${condition}\n  output: miner (proc=%proc.name)\n  priority: Critical\n  source: syscall\n`;

test('rules.propose: a good candidate is kept, a noisy or invalid one is replaced by a synthesized rule', () => {
  const { store, attack } = storeWithAttack();
  const kept = proposeRule(store, input(attack, rule('evt.type = execve and proc.name = xmrig')));
  assert.equal(kept.status, 'proposed');
  assert.ok(kept.status === 'proposed');
  assert.equal(kept.origin, 'candidate');
  assert.equal(kept.rules[0]?.name, 'Analyst miner rule');
  assert.deepEqual(kept.report.incident, { events: 3, hits: 3, missed: 0 });
  assert.equal(kept.report.baseline.events, 2000);
  assert.equal(kept.report.baseline.hits, 0);

  for (const bad of [rule('evt.type = execve'), rule('proc.name = = xmrig'), 'not: [yaml']) {
    const out = proposeRule(store, input(attack, bad));
    assert.ok(out.status === 'proposed', JSON.stringify(out));
    assert.equal(out.origin, 'synthesized');
    assert.equal(out.report.accepted, true);
    assert.equal(out.report.incident.missed, 0);
    assert.ok(out.report.baseline.rate <= 0.001);
    assert.match(out.rules[0]!.name, /^Falconer inc-1/);
  }
  const none = proposeRule(store, { ...input(attack), eventIds: ['gone-1', 'gone-2'] });
  assert.equal(none.status, 'none');
});

/** A proposal without its timings (they differ from run to run). */
function untimed(out: unknown): unknown {
  return JSON.parse(JSON.stringify(out), (k, v: unknown) =>
    k === 'elapsedMs' || k === 'eventsPerSecond' ? 0 : v,
  ) as unknown;
}

test('rules.propose on the worker thread: the same answer, only new events copied, stops when idle', async () => {
  const { store, attack } = storeWithAttack();
  const worker = new ProposalWorker(store, { idleMs: 300, chunkEvents: 300, maxCpuShare: 1 });
  try {
    const withCandidate = input(attack, rule('evt.type = execve and proc.name = xmrig'));
    const viaWorker = await worker.propose(withCandidate);
    assert.deepEqual(untimed(viaWorker), untimed(proposeRule(store, withCandidate)));
    assert.equal(worker.eventsSent, 2003);
    assert.equal(worker.active, true);

    const later = Array.from({ length: 50 }, (_, i) =>
      alert('web-2', 'curl', `curl -s ${i}`, T0 + 70_000 + i),
    );
    store.add(later);
    // Three at once queue one behind the other; the second and third copy nothing new.
    const [a, b, c] = await Promise.all([
      worker.propose(input(attack)),
      worker.propose(withCandidate),
      worker.propose({ ...input(attack), eventIds: ['gone'] }),
    ]);
    assert.equal(worker.eventsSent, 2053);
    assert.ok(a.status === 'proposed' && a.origin === 'synthesized');
    assert.equal(a.report.baseline.events, 2050);
    assert.deepEqual(untimed(a), untimed(proposeRule(store, input(attack))));
    assert.ok(b.status === 'proposed' && b.origin === 'candidate');
    assert.equal(c.status, 'none');

    await new Promise((r) => setTimeout(r, 800));
    assert.equal(worker.active, false, 'stopped after idleMs: its copy of the events is freed');
    const again = await worker.propose(withCandidate);
    assert.deepEqual(untimed(again), untimed(proposeRule(store, withCandidate)));
    assert.equal(worker.eventsSent, 2053 + 2053, 'a new worker gets the whole baseline again');
  } finally {
    await worker.close();
  }
  await assert.rejects(worker.propose(input(attack)), (e) => isFalconerError(e, 'DETECT_PROPOSAL_FAILED'));
});

test('rules.propose on the worker thread is paced to its share of a core; a repeated request joins the one under way', async () => {
  const { store, attack } = storeWithAttack(20_000);
  const worker = new ProposalWorker(store, { maxCpuShare: 0.1 });
  try {
    const req = input(attack, rule('evt.type = execve and proc.name = xmrig'));
    const first = worker.propose(req);
    assert.equal(worker.propose(req), first, 'the same request while it runs: the same answer');
    await first;
    // At a tenth of a core, a proposal that took t is followed by 9 t of rest; the next one waits it out.
    await worker.propose(input(attack));
    const rest = worker.restingMs;
    assert.ok(rest > 0, 'resting after a proposal');
    const t0 = Date.now();
    await worker.propose({ ...input(attack), incidentId: 'inc-3' });
    assert.ok(Date.now() - t0 >= rest - 5, `next after ${Date.now() - t0} ms, rest ${rest} ms`);
    assert.equal(worker.eventsSent, 20_003);
  } finally {
    await worker.close();
  }
});

function decision(forwarded: boolean): GateDecision {
  return {
    eventId: 'x',
    score: 0.2,
    forwarded,
    modelVersion: 'm1',
    reason: forwarded ? 'anomaly' : 'normal',
  };
}

test('approved rules: persisted, reloaded, validated; matches tagged, forwarded only when the gate did not', async () => {
  const url = `sqlite:${join(dir, 'detect.db')}`;
  const db1 = await openDatabase(url);
  const rules = new ApprovedRules(db1);
  assert.equal(await rules.load(), 0);
  await assert.rejects(rules.apply('bad', rule('proc.name = = x')), (e) =>
    isFalconerError(e, 'DETECT_RULE_INVALID'),
  );
  assert.deepEqual(await rules.apply('p1', rule('proc.name = xmrig', 'Falconer inc-1')), {
    applied: true,
    rules: ['Falconer inc-1'],
  });
  assert.deepEqual(await rules.apply('p1', rule('proc.name = xmrig', 'Falconer inc-1')), {
    applied: false,
    rules: ['Falconer inc-1'],
  });
  await db1.close();

  const db2 = await openDatabase(url);
  try {
    const reloaded = new ApprovedRules(db2);
    assert.equal(await reloaded.load(), 1);
    const registry = new Registry();
    const forwarder = new RuleForwarder({ rules: reloaded, registry });
    // Kept as the event store gets them: the event itself, or its tagged wire form when a rule matched.
    const stored: (NormalizedEvent | EventWire)[] = [];
    const keep = (e: NormalizedEvent | EventWire) => stored.push(e);

    const benign = alert('web-1', 'curl', 'curl x', T0);
    assert.equal(forwarder.observe(benign, decision(false), keep), undefined);
    assert.deepEqual(stored[0]!.tags, ['container']);

    const low = alert('web-1', 'xmrig', 'xmrig -o pool', T0 + 1, 'Warning');
    const update = forwarder.observe(low, decision(false), keep);
    assert.equal(update?.kind, 'opened');
    assert.deepEqual(update?.signal.eventIds, [low.id]);
    assert.equal(stored[1]!.id, low.id, 'the tag does not change the event id');
    assert.ok(stored[1]!.tags.includes('falconer.rule:Falconer inc-1'));

    const high = alert('web-1', 'xmrig', 'xmrig -o pool2', T0 + 2, 'Critical');
    assert.equal(forwarder.observe(high, decision(true), keep), undefined, 'the gate forwards it already');
    assert.ok(stored[2]!.tags.includes('falconer.rule:Falconer inc-1'));

    const k8s = { ...low, source: 'k8s_audit' } as NormalizedEvent;
    assert.equal(reloaded.match(k8s).length, 0, 'a syscall rule never sees another source');

    const metrics = await registry.getMetricsAsJSON();
    const matches = metrics.find((m) => m.name === 'falconer_detect_rule_matches_total')!;
    const value = (action: string) =>
      (matches.values as { labels: Record<string, string>; value: number }[]).find(
        (v) => v.labels.action === action,
      )?.value;
    assert.equal(value('forwarded'), 1);
    assert.equal(value('gate_forwarded'), 1);
  } finally {
    await db2.close();
  }
});
