/**
 * The coordinator's rule proposals on a real SQLite database with in-process
 * peers: a true positive asks detect once (retries and resumes reuse the
 * message id and never make a second proposal, also with two coordinators),
 * outcomes land on the timeline, and the HITL routes decide proposals.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RulesConfigSchema } from '../../../rules/delivery/config.ts';
import { silentLogger } from '../../../telemetry/logger.ts';
import type { RulesApplyInput, RulesProposeInput, RulesProposeOutput } from '../../contracts.ts';
import { startHitlApi } from '../hitl-api.ts';
import { getIncident, readTimeline } from '../incident-repo.ts';
import { FakePeers, report } from '../testing/fakes.ts';
import { eventually, harness, tempDir, type Harness } from '../testing/harness.ts';
import type { RulePeerContext, RulePeers } from './proposer.ts';
import { createRuleProposals, type RuleProposals } from './setup.ts';

const tmp = tempDir();
after(() => tmp.remove());

const YAML = `- rule: Falconer miner
  desc: d
  condition: proc.name = xmrig
  output: miner (proc=%proc.name)
  priority: Critical
  source: syscall
  tags: [falconer]
`;

function proposed(): RulesProposeOutput {
  return {
    status: 'proposed',
    origin: 'synthesized',
    yaml: YAML,
    rules: [
      {
        name: 'Falconer miner',
        desc: 'd',
        condition: 'proc.name = xmrig',
        output: 'miner (proc=%proc.name)',
        priority: 'Critical',
        tags: ['falconer'],
        source: 'syscall',
      },
    ],
    report: {
      valid: true,
      issues: [],
      rules: ['Falconer miner'],
      incident: { events: 1, hits: 1, missed: 0 },
      baseline: { events: 5000, hits: 0, rate: 0, maxRate: 0.001, exampleIds: [] },
      perRule: [],
      accepted: true,
      problems: [],
    },
  };
}

class FakeRulePeers implements RulePeers {
  readonly proposeCalls: { input: RulesProposeInput; ctx: RulePeerContext }[] = [];
  readonly applyCalls: { input: RulesApplyInput; ctx: RulePeerContext }[] = [];
  constructor(
    private readonly answer: () => RulesProposeOutput = proposed,
    private failFirst = 0,
    private readonly delayMs = 0,
  ) {}
  async propose(input: RulesProposeInput, ctx: RulePeerContext): Promise<RulesProposeOutput> {
    this.proposeCalls.push({ input, ctx });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failFirst-- > 0) throw new Error('detect unavailable (injected)');
    return this.answer();
  }
  async apply(input: RulesApplyInput, ctx: RulePeerContext) {
    this.applyCalls.push({ input, ctx });
    return { applied: true, rules: ['Falconer miner'], active: 1 };
  }
}

async function setup(
  db: string,
  rulePeers: FakeRulePeers,
  verdict: 'true_positive' | 'needs_review' = 'true_positive',
): Promise<{ h: Harness; rules: RuleProposals; close(): Promise<void> }> {
  const holder: { rules?: RuleProposals } = {};
  const h = await harness(join(tmp.dir, db), new FakePeers({ verdict }), {
    onTruePositive: (id) => holder.rules?.onTruePositive(id),
  });
  const rules = createRuleProposals({
    config: RulesConfigSchema.parse({ configMap: { file: join(tmp.dir, `${db}-cm.yaml`) } }),
    dataDir: tmp.dir,
    store: h.store,
    peers: rulePeers,
    audit: h.audit,
    logger: silentLogger(),
    retry: { initialMs: 10, maxMs: 50 },
  });
  holder.rules = rules;
  return {
    h,
    rules,
    close: async () => {
      await rules.close();
      await h.close();
    },
  };
}

async function open(h: Harness, signalId: string, workloadKey = 'default/shop/web-1'): Promise<string> {
  const out = await h.coordinator.onSignal(report({ signalId, lastSeenMs: h.now.ms, workloadKey }), {
    messageId: `m-${signalId}`,
  });
  return out.incidentId;
}

test('a true positive gets one proposal: retries, repeats and resume reuse the message id', async () => {
  const peers = new FakeRulePeers(proposed, 2);
  const { h, rules, close } = await setup('once.db', peers);
  try {
    const id = await open(h, 's1');
    const p = await eventually(async () => (await rules.store.findByIncident(id)) !== undefined).then(() =>
      rules.store.findByIncident(id),
    );
    assert.equal(p?.status, 'pending');
    await rules.proposer.idle();
    rules.onTruePositive(id);
    rules.onTruePositive(id);
    await rules.proposer.resume();
    await rules.proposer.idle();
    assert.equal((await rules.store.list()).length, 1);
    assert.equal(peers.proposeCalls.length, 3, 'two injected failures, then one success');
    assert.deepEqual(
      new Set(peers.proposeCalls.map((c) => c.ctx.messageId)),
      new Set([`${id}:rules.propose`]),
    );
    const call = peers.proposeCalls[0]!;
    assert.deepEqual(call.input.eventIds, ['s1-e1']);
    assert.equal(call.input.workload.key, 'default/shop/web-1');
    const incident = await getIncident(h.store.db, id);
    assert.equal(call.ctx.traceparent.slice(3, 35), incident.traceId);
    const notes = (await readTimeline(h.store.db, id)).filter(
      (e) => (e.detail as { ruleProposalId?: string } | undefined)?.ruleProposalId === p?.id,
    );
    assert.equal(notes.length, 1);
    assert.equal(notes[0]?.actor, 'detect');
  } finally {
    await close();
  }
});

test('two coordinators on one database racing for the same incident make one proposal', async () => {
  const a = await setup('race.db', new FakeRulePeers(proposed, 0, 50));
  const peersB = new FakeRulePeers(proposed, 0, 50);
  const b = await setup('race.db', peersB);
  try {
    const id = await open(a.h, 'r1');
    await eventually(async () => (await a.rules.store.findByIncident(id)) !== undefined);
    a.rules.proposer.request(id);
    b.rules.proposer.request(id);
    await Promise.all([a.rules.proposer.idle(), b.rules.proposer.idle()]);
    assert.equal((await b.rules.store.list()).length, 1);
    const notes = (await readTimeline(a.h.store.db, id)).filter(
      (e) => (e.detail as { ruleProposalId?: string } | undefined)?.ruleProposalId !== undefined,
    );
    assert.equal(notes.length, 1);
  } finally {
    await b.close();
    await a.close();
  }
});

test('detect answers none: recorded once on the timeline, not asked again; needs_review asks nothing', async () => {
  const none = new FakeRulePeers(() => ({ status: 'none', reason: 'no rule meets the bar: too noisy' }));
  const { h, rules, close } = await setup('none.db', none);
  try {
    const id = await open(h, 'n1');
    await eventually(async () =>
      (await readTimeline(h.store.db, id)).some((e) =>
        e.reason.startsWith('no rule proposed: no rule meets'),
      ),
    );
    await rules.proposer.resume();
    await rules.proposer.idle();
    assert.equal(none.proposeCalls.length, 1);
    assert.equal((await rules.store.list()).length, 0);
  } finally {
    await close();
  }
  const quiet = new FakeRulePeers();
  const review = await setup('review.db', quiet, 'needs_review');
  try {
    const id = await open(review.h, 'q1');
    await eventually(async () => (await getIncident(review.h.store.db, id)).analysis !== undefined);
    await review.h.coordinator.idle();
    await review.rules.proposer.resume();
    await review.rules.proposer.idle();
    assert.equal(quiet.proposeCalls.length, 0);
    // A human's true-positive verdict asks for a rule too.
    await review.h.coordinator.setVerdict({ incidentId: id, verdict: 'true_positive', by: 'alice' });
    await eventually(async () => (await review.rules.store.findByIncident(id)) !== undefined);
  } finally {
    await review.close();
  }
});

test('HITL routes: token, list, read, approve (ConfigMap, sent to detect), 409 on a second decision', async () => {
  const peers = new FakeRulePeers();
  const { h, rules, close } = await setup('api.db', peers);
  const api = await startHitlApi({
    coordinator: h.coordinator,
    store: h.store,
    credentials: [{ user: 'alice', token: 'alice-token-0123456789' }],
    linkSigner: h.links,
    audit: h.audit,
    logger: silentLogger(),
    host: '127.0.0.1',
    port: 0,
    rules: { store: rules.store, gate: rules.gate },
  });
  const call = async (method: string, path: string, body?: unknown, token = 'alice-token-0123456789') => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: (await res.json()) as any };
  };
  try {
    const id = await open(h, 'a1');
    const p = await eventually(async () => (await rules.store.findByIncident(id)) !== undefined).then(
      async () => (await rules.store.findByIncident(id))!,
    );
    assert.equal((await call('GET', '/api/v1/rules/proposals', undefined, '')).status, 401);
    assert.equal((await call('GET', '/api/v1/rules/proposals?status=maybe')).status, 400);
    assert.equal((await call('GET', '/api/v1/rules/proposals/nope')).status, 404);
    assert.equal((await call('POST', '/api/v1/rules/proposals/nope/approve', {})).status, 404);
    const listed = await call('GET', '/api/v1/rules/proposals?status=pending');
    assert.deepEqual(
      listed.body.proposals.map((x: { id: string }) => x.id),
      [p.id],
    );
    const read = await call('GET', `/api/v1/rules/proposals/${p.id}`);
    assert.equal(read.body.proposal.yaml, YAML);
    assert.equal(read.body.proposal.report.baseline.events, 5000);
    assert.equal(
      (await call('POST', `/api/v1/rules/proposals/${p.id}/approve`, { by: 'mallory' })).status,
      403,
    );
    const ok = await call('POST', `/api/v1/rules/proposals/${p.id}/approve`, {});
    assert.equal(ok.status, 200);
    assert.equal(ok.body.proposal.decidedBy, 'alice');
    assert.ok(existsSync(ok.body.proposal.delivery.configMapFile));
    await eventually(async () => peers.applyCalls.length === 1);
    assert.equal(peers.applyCalls[0]?.ctx.messageId, `rules.apply:${p.id}`);
    assert.equal(peers.applyCalls[0]?.input.yaml, YAML);
    const twice = await call('POST', `/api/v1/rules/proposals/${p.id}/reject`, { reason: 'late' });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'RULES_PROPOSAL_STATE');
    // A restart re-sends approved rules (detect's rules.apply is idempotent).
    await rules.proposer.resume();
    await eventually(async () => peers.applyCalls.length === 2);
  } finally {
    await api.close();
    await close();
  }
});
