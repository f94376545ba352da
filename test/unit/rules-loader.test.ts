import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules } from '../../src/rules/loader.ts';
import { joinCondition } from '../../src/rules/model.ts';
import { printCondition } from '../../src/rules/print.ts';
import { compileRuleSources, matchEvent } from '../../src/rules/ruleset.ts';

const rule = (name: string, condition: string, extra = ''): string =>
  `- rule: ${name}\n  desc: d\n  condition: ${condition}\n  output: o\n  priority: WARNING\n${extra}`;

test('append and override merge into earlier definitions, across files', () => {
  const base = [
    '- list: shells\n  items: [bash]',
    '- macro: spawned\n  condition: evt.type = execve',
    rule('R', 'spawned and proc.name in (shells)', '  tags: [a]\n'),
    rule('Q', 'proc.name = q'),
  ].join('\n');
  const local = [
    '- list: shells\n  items: [zsh]\n  append: true',
    '- macro: spawned\n  condition: or evt.type = execveat\n  override:\n    condition: append',
    '- rule: R\n  condition: and user.name = root\n  tags: [b]\n  override:\n    condition: append\n    tags: append',
    '- rule: Q\n  enabled: false',
  ].join('\n');
  const m = loadRules([
    { file: 'base.yaml', text: base },
    { file: 'local.yaml', text: local },
  ]);
  assert.deepEqual(m.issues, []);
  assert.deepEqual(m.lists.get('shells')!.items, ['bash', 'zsh']);
  assert.equal(
    joinCondition(m.macros.get('spawned')!.condition).text,
    'evt.type = execve or evt.type = execveat',
  );
  assert.equal(
    joinCondition(m.rules.get('R')!.condition).text,
    'spawned and proc.name in (shells) and user.name = root',
  );
  assert.deepEqual(m.rules.get('R')!.tags, ['a', 'b']);
  assert.equal(m.rules.get('Q')!.enabled, false);
  assert.deepEqual(
    m.files.map((f) => [f.file, f.rules, f.macros, f.lists]),
    [
      ['base.yaml', 2, 1, 1],
      ['local.yaml', 2, 1, 1],
    ],
  );
  const set = compileRuleSources([
    { file: 'base.yaml', text: base },
    { file: 'local.yaml', text: local },
  ]);
  assert.deepEqual(
    matchEvent(set, 'syscall', { 'evt.type': 'execveat', 'proc.name': 'zsh', 'user.name': 'root' }),
    ['R'],
  );
  assert.deepEqual(
    matchEvent(set, 'syscall', { 'evt.type': 'execve', 'proc.name': 'zsh', 'user.name': 'bob' }),
    [],
  );
  const replaced = loadRules([
    { file: 'b', text: base },
    { file: 'l', text: '- rule: R\n  condition: proc.name = x\n  override:\n    condition: replace' },
  ]);
  assert.equal(joinCondition(replaced.rules.get('R')!.condition).text, 'proc.name = x');
});

test('exceptions compile into the condition as Falco does', () => {
  const text = rule(
    'Shell',
    'proc.name in (bash, sh)',
    [
      '  exceptions:',
      '    - name: by_parent_and_image',
      '      fields: [proc.pname, container.image.repository]',
      '      comps: [=, startswith]',
      '      values:',
      '        - [cron, docker.io/library/]',
      '    - name: by_cmdline',
      '      fields: proc.cmdline',
      '      comps: in',
      '      values: [bash -c true]',
      '',
    ].join('\n'),
  );
  const set = compileRuleSources([{ file: 'x.yaml', text }]);
  assert.deepEqual(set.issues, []);
  const r = set.syscall[0]!;
  assert.equal(
    printCondition(r.expr),
    'proc.name in (bash, sh) and not (proc.pname = cron and container.image.repository startswith docker.io/library/ or proc.cmdline in ("bash -c true"))',
  );
  assert.equal(
    r.matches({
      'proc.name': 'bash',
      'proc.pname': 'cron',
      'container.image.repository': 'docker.io/library/x',
    }),
    false,
  );
  assert.equal(
    r.matches({ 'proc.name': 'bash', 'proc.pname': 'cron', 'container.image.repository': 'quay.io/x' }),
    true,
  );
  assert.equal(r.matches({ 'proc.name': 'sh', 'proc.cmdline': 'bash -c true' }), false);
});

test('every problem is located with file, line, column and text', () => {
  const text = [
    '- macro: a',
    '  condition: b',
    '- macro: b',
    '  condition: a',
    '- list: l1',
    '  items: [l2]',
    '- list: l2',
    '  items: [l1]',
    rule('Cycle', 'a'),
    rule('Lists', 'proc.name in (l1)'),
    rule('Undefined', 'proc.name = x and nope'),
    rule('BadPriority', 'proc.name = x').replace('WARNING', 'LOUD'),
    '- rule: Missing\n  append: true\n  condition: and x',
    '- rule: NoOutput\n  desc: d\n  condition: a.b = 1\n  priority: INFO',
    '- what: 1',
  ].join('\n');
  const set = compileRuleSources([{ file: 'bad.yaml', text }]);
  const msgs = set.issues.map((i) => `${i.line}:${i.column} ${i.message}`);
  const expect = [
    /macro cycle: a -> b -> a|macro cycle: b -> a -> b/,
    /list cycle/,
    /undefined macro 'nope'/,
    /invalid priority 'LOUD'/,
    /no rule by that name already exists/,
    /no mandatory key 'output'/,
    /unknown top level item/,
  ];
  for (const re of expect)
    assert.ok(
      msgs.some((m) => re.test(m)),
      `${re} in ${msgs.join('\n')}`,
    );
  for (const i of set.issues) {
    assert.equal(i.file, 'bad.yaml');
    assert.ok(i.line >= 1 && i.column >= 1);
  }
  const undef = set.issues.find((i) => i.message.includes("'nope'"))!;
  assert.equal(text.split('\n')[undef.line - 1]!.slice(undef.column - 1, undef.column + 3), 'nope');
  const yamlError = compileRuleSources([{ file: 'y.yaml', text: '- rule: x\n  desc: [unclosed\n' }]);
  assert.equal(yamlError.issues[0]!.file, 'y.yaml');
  assert.match(yamlError.issues[0]!.message, /invalid YAML/);
});

test('required_engine_version, plugin versions, bare items and folded conditions', () => {
  const text = [
    '- required_engine_version: 0.31.0',
    '- required_plugin_versions:\n  - name: k8saudit\n    version: 0.1.0',
    '-',
    '- rule: Folded\n  desc: d\n  condition: >\n    proc.name = a and\n    proc.pid <\n  output: o\n  priority: INFO',
  ].join('\n');
  const set = compileRuleSources([{ file: 'f.yaml', text }]);
  assert.equal(set.model.requiredEngineVersion, '0.31.0');
  assert.deepEqual(set.model.requiredPluginVersions, [{ name: 'k8saudit', version: '0.1.0' }]);
  assert.equal(set.issues.length, 1);
  // the error is on line 10 (`proc.pid <`), right after the operator
  assert.deepEqual([set.issues[0]!.line, set.issues[0]!.column], [10, 15]);
});
