/**
 * Rule proposals end to end with the real agents (five, in this process, each
 * with its own A2A server speaking mTLS to the others), a real GitOps working
 * copy (`git` CLI) and the HITL API over HTTP:
 *
 *   cryptominer attacks on two pods → offline analyst: true_positive →
 *   detect synthesizes and backtests a rule per incident → pending proposals →
 *   reject one, approve the other → commit on a branch + ConfigMap file →
 *   detect applies the rule (persisted: it survives a detect restart) →
 *   a matching event the gate does not forward is forwarded, tagged
 *   `falconer.rule:<name>`, and reaches the coordinator; a second approve is 409.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { ensureDevPki } from '../../src/a2a/pki.ts';
import { AGENT_NAMES, type AgentName } from '../../src/agents/contracts.ts';
import { AGENT_FACTORIES } from '../../src/agents/registry.ts';
import { runAgent, type RunningAgent } from '../../src/agents/runtime.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { FalconerConfig } from '../../src/config/schema.ts';
import { requireComponent } from '../support/components.ts';
import { platformPorts, type PlatformPorts } from '../support/platform-env.ts';

const TOKEN = 'rule-reviewer-token-0123456789';
const gitAvailable = (() => {
  try {
    execFileSync('git', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let ports: PlatformPorts;
let config: FalconerConfig;
let repo: string;
const agents = new Map<AgentName, RunningAgent>();

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: repo, encoding: 'utf8' });
}

interface AlertOpts {
  ns: string;
  pod: string;
  proc: string;
  cmdline: string;
  priority?: string;
  rule?: string;
  atMs: number;
}

/** A Falco syscall alert as http_output posts it. */
function alert(o: AlertOpts): Record<string, unknown> {
  const time = new Date(o.atMs).toISOString().replace('Z', '000000Z');
  const miner = o.proc === 'xmrig';
  return {
    hostname: 'worker-1',
    output: `${time}: ${o.priority ?? 'Notice'} ${o.rule ?? 'Process spawned'} (proc=${o.proc} cmd=${o.cmdline})`,
    priority: o.priority ?? 'Notice',
    rule: o.rule ?? 'Process spawned',
    source: 'syscall',
    tags: miner ? ['container', 'mitre_impact', 'T1496'] : ['container', 'process'],
    time,
    output_fields: {
      'container.id': `c-${o.pod}`.slice(0, 12),
      'container.image.repository': 'docker.io/library/nginx',
      'evt.type': 'execve',
      'k8s.ns.name': o.ns,
      'k8s.pod.name': o.pod,
      'proc.cmdline': o.cmdline,
      'proc.exepath': miner ? '/tmp/.x/xmrig' : `/usr/bin/${o.proc}`,
      'proc.name': o.proc,
      'proc.pname': miner ? 'sh' : 'nginx',
      'user.name': miner ? 'root' : 'www-data',
    },
  };
}

const BENIGN = [
  ['nginx', 'nginx -g daemon off;'],
  ['sh', 'sh -c /usr/local/bin/healthcheck'],
  ['curl', 'curl -s http://localhost/healthz'],
  ['logrotate', 'logrotate /etc/logrotate.conf'],
  ['python3', 'python3 /app/report.py'],
] as const;

function miner(ns: string, pod: string, atMs: number, priority = 'Critical'): Record<string, unknown> {
  return alert({
    ns,
    pod,
    proc: 'xmrig',
    cmdline: 'xmrig -o stratum+tcp://pool.evil.example:3333 --donate-level 1',
    priority,
    rule: 'Known Cryptominer Process Executed',
    atMs,
  });
}

async function post(alerts: Record<string, unknown>[]): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ports.ingest}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: alerts.map((a) => JSON.stringify(a)).join('\n') + '\n',
  });
  assert.equal(res.status, 200, await res.text());
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`http://127.0.0.1:${ports.api}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 180_000, // the suite runs two files at once on two shared cores
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function metric(agent: AgentName, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${ports.ops[agent]}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels) && !l.startsWith('#'));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function start(name: AgentName): Promise<void> {
  agents.set(name, await runAgent(name, config, await AGENT_FACTORIES[name]()));
}

before(async () => {
  if (!gitAvailable) return;
  dir = mkdtempSync(join(tmpdir(), 'falconer-rule-proposals-'));
  const dataDir = join(dir, 'data');
  repo = join(dir, 'gitops');
  execFileSync('git', ['init', '-q', '-b', 'main', repo]);
  writeFileSync(join(repo, 'README.md'), 'GitOps repository for Falco rules\n');
  git('add', 'README.md');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'init');

  ports = await platformPorts();
  config = loadConfig({
    env: ports.env,
    overrides: {
      dataDir,
      'log.level': 'warn',
      // The gate stays in warm-up: only Critical (or more severe) events are forwarded by it.
      'gate.warmupEvents': 1_000_000,
      'coordinator.api.token': TOKEN,
      'coordinator.retryInitialMs': 100,
      'coordinator.retryMaxMs': 1000,
      'notify.sinks': [{ kind: 'file', console: false }],
      'rules.gitops': { repo, branch: 'main', author: { name: 'Falconer', email: 'falconer@example.org' } },
      'rules.configMap': { file: join(dir, 'falco-rules-configmap.yaml'), namespace: 'falco' },
    },
  });
  await ensureDevPki({
    dir: join(dataDir, 'pki'),
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    agents: AGENT_NAMES,
  });
  for (const name of ['coordinator', 'analyse', 'remediate', 'notify', 'detect'] as const) await start(name);
});

after(async () => {
  for (const a of [...agents.values()].reverse()) await a.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('attack → true positive → rule proposals → reject / approve over HTTP → git branch + ConfigMap → detect forwards a low-score match', async (t) => {
  if (!requireComponent(t, 'git', gitAvailable, 'apt-get install -y git')) return;
  const t0 = Date.now() - 120_000;
  // A benign background on both pods (and others), then a miner on each of two pods.
  const background: Record<string, unknown>[] = [];
  const pods = [
    ['shop', 'web-1'],
    ['billing', 'api-1'],
    ['shop', 'web-2'],
    ['ops', 'tools-1'],
  ] as const;
  for (let i = 0; i < 600; i++) {
    const [ns, pod] = pods[i % pods.length]!;
    const [proc, cmdline] = BENIGN[i % BENIGN.length]!;
    background.push(alert({ ns, pod, proc, cmdline, atMs: t0 + i * 100 }));
  }
  await post(background);
  const attackAt = t0 + 61_000;
  await post([
    miner('shop', 'web-1', attackAt),
    miner('shop', 'web-1', attackAt + 500),
    miner('shop', 'web-1', attackAt + 900),
    miner('billing', 'api-1', attackAt + 200),
    miner('billing', 'api-1', attackAt + 700),
  ]);

  // Both incidents are true positives; detect answers a rule for each: two pending proposals.
  const pending = await eventually('two pending rule proposals', async () => {
    const r = await api('GET', '/api/v1/rules/proposals?status=pending');
    return r.body.proposals?.length === 2 ? (r.body.proposals as Json[]) : undefined;
  });
  const incidents = (await api('GET', '/api/incidents')).body.incidents as Json[];
  const byWorkload = (key: string) => incidents.find((i) => i.workload.key.endsWith(key));
  const web = byWorkload('/shop/web-1');
  const billing = byWorkload('/billing/api-1');
  assert.ok(web && billing, JSON.stringify(incidents.map((i) => i.workload.key)));
  const webProposal = pending.find((p) => p.incidentId === web.id);
  const billingProposal = pending.find((p) => p.incidentId === billing.id);
  assert.ok(webProposal && billingProposal);
  assert.equal(webProposal.accepted, true);
  assert.equal(webProposal.incidentHits, webProposal.incidentEvents);
  assert.ok(webProposal.baselineEvents >= 600);
  assert.ok(webProposal.baselineHits <= webProposal.baselineEvents * 0.001);

  // The proposal in full: YAML and backtest report; and on the incident's timeline.
  const full = (await api('GET', `/api/v1/rules/proposals/${webProposal.id}`)).body.proposal;
  const items = parse(full.yaml as string) as Json[];
  assert.equal(items[0].rule, webProposal.rules[0]);
  assert.equal(full.report.accepted, true);
  assert.equal(full.report.incident.missed, 0);
  const detail = (await api('GET', `/api/incidents/${web.id}`)).body;
  assert.equal(detail.analysis.verdict, 'true_positive');
  assert.ok(
    detail.timeline.some((e: Json) => e.detail?.ruleProposalId === webProposal.id),
    JSON.stringify(detail.timeline),
  );

  // Reject the billing one; approve the web one: branch commit, ConfigMap, detect.
  const rejected = await api('POST', `/api/v1/rules/proposals/${billingProposal.id}/reject`, {
    reason: 'too specific for billing',
  });
  assert.equal(rejected.status, 200, JSON.stringify(rejected.body));
  assert.equal(rejected.body.proposal.status, 'rejected');
  assert.equal((await api('POST', `/api/v1/rules/proposals/${billingProposal.id}/approve`, {})).status, 409);

  const approved = await api('POST', `/api/v1/rules/proposals/${webProposal.id}/approve`, {});
  assert.equal(approved.status, 200, JSON.stringify(approved.body));
  const delivery = approved.body.proposal.delivery;
  assert.equal(delivery.git.branch, `falconer/rule-${web.id}`);
  assert.equal(git('rev-parse', delivery.git.branch).trim(), delivery.git.commit);
  assert.equal(git('rev-parse', '--abbrev-ref', 'HEAD').trim(), 'main', 'the working copy is back on main');
  const message = git('log', '-1', '--format=%B', delivery.git.branch);
  assert.match(message, /Backtest report:/);
  assert.match(message, /Approved-by: operator/);
  assert.match(git('show', `${delivery.git.branch}:falconer_rules.yaml`), new RegExp(webProposal.rules[0]));
  assert.ok(existsSync(delivery.configMapFile));
  const cm = parse(readFileSync(delivery.configMapFile, 'utf8')) as Json;
  assert.equal(cm.kind, 'ConfigMap');
  assert.equal(cm.metadata.namespace, 'falco');
  assert.match(cm.data['falconer_rules.yaml'], new RegExp(webProposal.rules[0]));
  assert.doesNotMatch(cm.data['falconer_rules.yaml'], new RegExp(billingProposal.rules[0]));

  // Double approve: 409, audited.
  const again = await api('POST', `/api/v1/rules/proposals/${webProposal.id}/approve`, {});
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'RULES_PROPOSAL_STATE');
  assert.deepEqual(
    (await api('GET', '/api/v1/rules/proposals?status=approved')).body.proposals.map((p: Json) => p.id),
    [webProposal.id],
  );
  const audit = await agents
    .get('coordinator')!
    .context.store.db.selectFrom('audit_log')
    .select(['action', 'actor', 'result'])
    .where('action', 'like', 'rule.%')
    .execute();
  const actions = audit.map((a) => a.action);
  for (const a of [
    'rule.proposed',
    'rule.rejected',
    'rule.approved',
    'rule.delivered',
    'rule.approve.refused',
  ])
    assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);

  // Detect has the rule, also after a restart (persisted in its state database).
  await eventually(
    'detect applied the rule',
    async () => (await metric('detect', 'falconer_detect_rules_active')) === 1,
  );
  await agents.get('detect')!.stop();
  await start('detect');
  assert.equal(await metric('detect', 'falconer_detect_rules_active'), 1);

  // A Warning-priority miner on web-1: the gate (in warm-up) does not forward it; the rule does.
  const lowAt = Date.now();
  await post([miner('shop', 'web-1', lowAt, 'Warning')]);
  await eventually(
    'the rule forwarded the event',
    async () => (await metric('detect', 'falconer_detect_rule_matches_total', 'action="forwarded"')) >= 1,
  );
  const reports = await eventually('the coordinator got the rule-tagged event', async () => {
    const rows = await agents
      .get('coordinator')!
      .context.store.db.selectFrom('incident_signals')
      .select(['report'])
      .execute();
    const tagged = rows.filter((r) => r.report.includes(`falconer.rule:${webProposal.rules[0]}`));
    return tagged.length > 0 ? tagged : undefined;
  });
  const report = JSON.parse(reports[0]!.report) as Json;
  assert.equal(report.signal.workload.key.endsWith('/shop/web-1'), true);
  assert.equal(report.events[0].priority, 'Warning');
  assert.ok(report.events[0].tags.includes(`falconer.rule:${webProposal.rules[0]}`));
  // Still one proposal per incident.
  assert.equal((await api('GET', '/api/v1/rules/proposals')).body.proposals.length, 2);
});
