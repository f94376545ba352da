import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { isFalconerError } from '../../src/errors.ts';
import { createNormalizer } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { compileCandidate } from '../../src/rules/backtest.ts';
import {
  InMemoryRuleProposalStore,
  RuleApprovalGate,
  type AuditEntry,
} from '../../src/rules/delivery/approval.ts';
import {
  renderConfigMap,
  renderHelmCustomRules,
  rulesConfigMap,
} from '../../src/rules/delivery/configmap.ts';
import { branchName, GitOpsRepository } from '../../src/rules/delivery/git.ts';
import { mergeRulesFile, RULES_FILE_HEADER } from '../../src/rules/delivery/rules-file.ts';
import { synthesizeRule, type RuleProposal } from '../../src/rules/synthesize.ts';
import { SHARED_DATA } from '../support/paths.ts';

const baseRules = [
  {
    file: 'falco_rules.yaml',
    text: readFileSync(join(SHARED_DATA, 'falco', 'rules', 'falco_rules.yaml'), 'utf8'),
  },
];
const normalize = createNormalizer();
let clock = 0;
function alert(fields: Record<string, string | number>): NormalizedEvent {
  clock++;
  return normalize({
    hostname: 'node-1',
    output: `o ${clock}`,
    priority: 'Critical',
    rule: 'Terminal shell in container',
    source: 'syscall',
    tags: ['container', 'mitre_execution'],
    time: `2025-03-04T08:00:${String(clock % 60).padStart(2, '0')}.000000000Z`,
    output_fields: { 'container.id': 'abc', 'evt.type': 'execve', ...fields },
  });
}
const baseline = Array.from({ length: 2000 }, (_, i) =>
  alert({
    'proc.name': i % 2 ? 'nginx' : 'python3',
    'proc.cmdline': `worker ${i}`,
    'container.image.repository': 'docker.io/library/nginx',
  }),
);
// Attacker-written text: YAML structure, quotes, a comment, git trailers and a fake subject line.
const EVIL = 'x" or "1"="1\n- rule: pwned\n  condition: always_true # \n\nSigned-off-by: mallory <m@x>\n';
function proposal(name: string): RuleProposal {
  const incident = [
    alert({ 'proc.name': name, 'proc.cmdline': EVIL, 'container.image.repository': 'evil/img' }),
    alert({ 'proc.name': name, 'proc.cmdline': `${EVIL}2`, 'container.image.repository': 'evil/img' }),
  ];
  const p = synthesizeRule({ incidentEvents: incident, baseline, baseRules, incidentId: `inc-${name}` });
  assert.equal(p.backtest.accepted, true, p.backtest.problems.join('; '));
  return p;
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@x',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@x',
    },
  });
}
function tempRepo(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-gitops-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  git(dir, 'init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'README.md'), 'gitops\n');
  git(dir, 'add', 'README.md');
  git(dir, 'commit', '-q', '-m', 'init');
  return dir;
}
const author = { name: 'Falconer Bot', email: 'falconer@example.org' };

test('GitOps: the rule is committed on falconer/rule-<incident> with the backtest report; a second rule merges into the file', async (t) => {
  const dir = tempRepo(t);
  const repo = new GitOpsRepository({ repoDir: dir, author });
  const p1 = proposal('xmrig');
  const d1 = await repo.deliver({
    incidentId: 'inc-1',
    yaml: p1.yaml,
    ruleNames: p1.rules.map((r) => r.name),
    report: p1.backtest,
  });
  assert.equal(d1.branch, 'falconer/rule-inc-1');
  assert.equal(
    git(dir, 'rev-parse', '--abbrev-ref', 'HEAD').trim(),
    'main',
    'working copy back on its branch',
  );
  assert.equal(existsSync(join(dir, 'falconer_rules.yaml')), false, 'main is untouched');
  assert.equal(git(dir, 'rev-parse', d1.branch).trim(), d1.commit);
  assert.equal(
    git(dir, 'log', '-1', '--format=%an <%ae>|%cn', d1.branch).trim(),
    'Falconer Bot <falconer@example.org>|Falconer Bot',
  );
  const msg = git(dir, 'log', '-1', '--format=%B', d1.branch);
  assert.match(
    msg,
    /^Falconer: proposed Falco rule for incident inc-1\n\nRule: Falconer inc-xmrig\n\nBacktest report:\n {2}valid: true, accepted: true\n {2}incident events: 2\/2 fired \(missed 0\)\n {2}baseline events: 0\/2000 fired/,
  );
  assert.equal(git(dir, 'log', '-1', '--format=%(trailers)', d1.branch).trim(), '', 'no trailer smuggled in');
  const committed = git(dir, 'show', `${d1.branch}:falconer_rules.yaml`);
  assert.equal(committed, d1.rulesFile);
  const items = parse(committed) as { rule: string; condition: string }[];
  assert.deepEqual(
    items.map((i) => i.rule),
    ['Falconer inc-xmrig'],
  );
  assert.equal(items[0]!.condition, p1.rule.condition, 'attacker text stays inside one YAML scalar');
  const rule = compileCandidate(committed, baseRules);
  assert.equal(
    rule.matches({
      'container.id': 'abc',
      'evt.type': 'execve',
      'proc.name': 'xmrig',
      'proc.cmdline': EVIL,
      'container.image.repository': 'evil/img',
    }),
    true,
  );

  // The reviewer merges; the next proposal lands in the same file next to the first.
  git(dir, 'merge', '-q', '--no-ff', '-m', 'merge', d1.branch);
  const p2 = proposal('kdevtmpfsi');
  const d2 = await repo.deliver({
    incidentId: 'inc 2/../x',
    yaml: p2.yaml,
    ruleNames: p2.rules.map((r) => r.name),
    report: p2.backtest,
  });
  assert.equal(d2.branch, 'falconer/rule-inc-2-.-x');
  const both = parse(git(dir, 'show', `${d2.branch}:falconer_rules.yaml`)) as { rule: string }[];
  assert.deepEqual(
    both.map((i) => i.rule),
    ['Falconer inc-xmrig', 'Falconer inc-kdevtmpfsi'],
  );

  await assert.rejects(
    repo.deliver({ incidentId: 'inc-1', yaml: p1.yaml, ruleNames: [], report: p1.backtest }),
    (err) => isFalconerError(err, 'RULES_DELIVERY_GIT') && /already exists/.test(err.message),
  );
  await assert.rejects(
    repo.deliver({
      incidentId: 'inc-3',
      yaml: '- rule: broken\n  condition: (\n  output: o\n  priority: INFO\n  desc: d\n',
      ruleNames: [],
      report: p1.backtest,
    }),
    (err) => isFalconerError(err, 'RULES_DELIVERY_INVALID'),
  );
  assert.equal(
    git(dir, 'branch', '--list', 'falconer/rule-inc-3').trim(),
    '',
    'a failed delivery leaves no branch',
  );
  assert.equal(git(dir, 'rev-parse', '--abbrev-ref', 'HEAD').trim(), 'main');
  assert.throws(() => new GitOpsRepository({ repoDir: dir, author, rulesPath: '../outside.yaml' }));
  assert.equal(branchName('..'), 'falconer/rule-incident');
});

test('merging replaces a rule of the same name and keeps the others', () => {
  const a = '- rule: A\n  desc: d\n  condition: proc.name = a\n  output: o\n  priority: INFO\n';
  const b = '- rule: B\n  desc: d\n  condition: proc.name = b\n  output: o\n  priority: INFO\n';
  const a2 = a.replace('proc.name = a', 'proc.name = a2');
  const merged = mergeRulesFile(mergeRulesFile(mergeRulesFile(undefined, a), b), a2);
  assert.ok(merged.startsWith(RULES_FILE_HEADER));
  assert.deepEqual(parse(merged), [
    { rule: 'B', desc: 'd', condition: 'proc.name = b', output: 'o', priority: 'INFO' },
    { rule: 'A', desc: 'd', condition: 'proc.name = a2', output: 'o', priority: 'INFO' },
  ]);
  assert.throws(
    () => mergeRulesFile('{not: a list}', a),
    (err) => isFalconerError(err, 'RULES_DELIVERY_INVALID'),
  );
});

test('Helm customRules values and the v1 ConfigMap render exactly', () => {
  const text = '- rule: A\n  condition: proc.name = "a b"\n';
  assert.equal(
    renderHelmCustomRules(text),
    'customRules:\n  falconer_rules.yaml: |\n    - rule: A\n      condition: proc.name = "a b"\n',
  );
  assert.equal(
    renderConfigMap(text, { namespace: 'security' }),
    [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: falconer-rules',
      '  namespace: security',
      '  labels:',
      '    app.kubernetes.io/managed-by: falconer',
      '    app.kubernetes.io/part-of: falco',
      'data:',
      '  falconer_rules.yaml: |',
      '    - rule: A',
      '      condition: proc.name = "a b"',
      '',
    ].join('\n'),
  );
  assert.deepEqual(parse(renderConfigMap(text)), rulesConfigMap(text));
});

test('approval gate: pending → approved delivers (git + ConfigMap) and reaches the detect agent; audited; no second decision', async (t) => {
  const dir = tempRepo(t);
  const audit: AuditEntry[] = [];
  const approved: string[] = [];
  const cmFile = join(dir, '..', `${dir.split('/').pop()}-cm`, 'falconer-rules.configmap.yaml');
  t.after(() => rmSync(join(cmFile, '..'), { recursive: true, force: true }));
  let n = 0;
  const gate = new RuleApprovalGate({
    store: new InMemoryRuleProposalStore(),
    audit: (e) => void audit.push(e),
    git: new GitOpsRepository({ repoDir: dir, author }),
    configMap: { file: cmFile, namespace: 'falco' },
    onApproved: (r) => void approved.push(...r.rules.map((x) => x.name)),
    now: () => new Date('2025-03-04T08:00:00Z'),
    newId: () => `p${++n}`,
  });
  const p1 = proposal('xmrig');
  const p2 = proposal('kdevtmpfsi');
  const s1 = await gate.propose('inc-1', p1);
  const s2 = await gate.propose('inc-2', p2);
  assert.equal(s1.status, 'pending');
  assert.deepEqual(approved, [], 'nothing reaches detect before approval');

  const done = await gate.approve('p1', 'alice\n- injected');
  assert.equal(done.status, 'approved');
  assert.equal(done.decidedBy, 'alice - injected');
  assert.equal(done.delivery?.git?.branch, 'falconer/rule-inc-1');
  assert.match(
    git(dir, 'log', '-1', '--format=%B', 'falconer/rule-inc-1'),
    /\nApproved-by: alice - injected\n/,
  );
  assert.equal(
    readFileSync(cmFile, 'utf8'),
    renderConfigMap(mergeRulesFile(undefined, p1.yaml), { namespace: 'falco' }),
  );
  assert.deepEqual(approved, ['Falconer inc-xmrig']);

  await assert.rejects(gate.approve('p1', 'bob'), (err) => isFalconerError(err, 'RULES_PROPOSAL_STATE'));
  await assert.rejects(gate.approve('nope', 'bob'), (err) =>
    isFalconerError(err, 'RULES_PROPOSAL_NOT_FOUND'),
  );
  const rejected = await gate.reject(s2.id, 'bob', 'too broad');
  assert.equal(rejected.status, 'rejected');
  await assert.rejects(gate.approve(s2.id, 'carol'), (err) => isFalconerError(err, 'RULES_PROPOSAL_STATE'));
  assert.deepEqual(approved, ['Falconer inc-xmrig'], 'a rejected rule never reaches detect');
  assert.deepEqual(
    audit.map((e) => `${e.action} ${e.proposalId} ${e.by}`),
    [
      'rule.proposed p1 falconer',
      'rule.proposed p2 falconer',
      'rule.approved p1 alice - injected',
      'rule.delivered p1 alice - injected',
      'rule.rejected p2 bob',
    ],
  );
  assert.equal(audit[3]!.detail?.branch, 'falconer/rule-inc-1');
});
