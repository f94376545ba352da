import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripPositions } from '../../src/rules/ast.ts';
import { runK8sAuditConformance } from '../../src/rules/conformance.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { joinCondition } from '../../src/rules/model.ts';
import { parseCondition } from '../../src/rules/parser.ts';
import { printCondition, printValue } from '../../src/rules/print.ts';
import { compileRuleSources } from '../../src/rules/ruleset.ts';
import { SHARED_DATA } from '../support/paths.ts';

const RULES_DIR = join(SHARED_DATA, 'falco', 'rules');
const FILES = [
  'falco_rules.yaml',
  'falco-incubating_rules.yaml',
  'falco-sandbox_rules.yaml',
  'falco-deprecated_rules.yaml',
  'k8s_audit_rules_legacy.yaml',
];
const source = (f: string) => ({ file: f, text: readFileSync(join(RULES_DIR, f), 'utf8') });

test('100 % of the official rules, macros and lists parse and round-trip', () => {
  for (const f of FILES) {
    const m = loadRules([source(f)]);
    assert.deepEqual(m.issues, [], f);
    let n = 0;
    for (const item of [...m.rules.values(), ...m.macros.values()]) {
      const text = joinCondition(item.condition).text;
      const ast = parseCondition(text);
      assert.deepEqual(
        stripPositions(parseCondition(printCondition(ast))),
        stripPositions(ast),
        `${f}: ${item.name}`,
      );
      n++;
    }
    for (const list of m.lists.values()) {
      const cond = `x.y in (${list.items.map(printValue).join(', ')})`;
      const ast = parseCondition(cond);
      assert.deepEqual(
        ast.kind === 'binary' && ast.value.kind === 'list' && ast.value.values,
        list.items,
        list.name,
      );
      n++;
    }
    assert.ok(n > 0);
  }
});

test('the official files compile together without issues', () => {
  const syscall = compileRuleSources(FILES.slice(0, 4).map(source));
  assert.deepEqual(syscall.issues, []);
  assert.ok(syscall.syscall.length >= 80);
  const k8s = compileRuleSources(['falco_rules.yaml', 'k8s_audit_rules_legacy.yaml'].map(source));
  assert.deepEqual(k8s.issues, []);
  assert.equal(k8s.k8s_audit.length, 43);
});

test("k8s_audit_rules_legacy.yaml reproduces Falco's k8s audit oracle on every available case", () => {
  const cases = runK8sAuditConformance(SHARED_DATA);
  const available = cases.filter((c) => c.status !== 'unavailable');
  const mismatched = available.filter((c) => c.status === 'mismatched');
  assert.deepEqual(mismatched, []);
  assert.equal(available.length, 40);
  assert.equal(cases.length, 66);
});
