/**
 * The scenario's rule catalogue must be the real Falco rules, verbatim: name,
 * priority, tags, source and output format, checked against the official rule
 * files in ../shared/data/falco/rules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RULES, RULE_IDS, SYSCALL_APPEND_OUTPUT } from '../../src/scenario/catalog.ts';
import { compileFormat } from '../../src/scenario/format.ts';
import { SHARED_DATA } from '../support/paths.ts';

interface YamlRule {
  rule: string;
  priority: string;
  tags?: string[];
  source?: string;
  output: string;
}

/** Falco's alert spelling of a rule priority (falco_common::format_priority). */
const ALERT_PRIORITY: Record<string, string> = {
  EMERGENCY: 'Emergency',
  ALERT: 'Alert',
  CRITICAL: 'Critical',
  ERROR: 'Error',
  WARNING: 'Warning',
  NOTICE: 'Notice',
  INFO: 'Informational',
  INFORMATIONAL: 'Informational',
  DEBUG: 'Debug',
};

const byFile = new Map<string, Map<string, YamlRule>>();
function rulesOf(file: string): Map<string, YamlRule> {
  let rules = byFile.get(file);
  if (rules === undefined) {
    const docs = parse(readFileSync(join(SHARED_DATA, 'falco', 'rules', file), 'utf8')) as unknown[];
    rules = new Map();
    for (const d of docs) {
      if (d !== null && typeof d === 'object' && 'rule' in d) rules.set((d as YamlRule).rule, d as YamlRule);
    }
    byFile.set(file, rules);
  }
  return rules;
}

test('every catalogue rule matches the real Falco rule verbatim', () => {
  assert.ok(RULE_IDS.length >= 50, 'the catalogue covers the rules the scenario uses');
  for (const id of RULE_IDS) {
    const entry = RULES[id];
    const real = rulesOf(entry.file).get(entry.name);
    assert.ok(real, `${id}: rule "${entry.name}" exists in ${entry.file}`);
    assert.equal(entry.priority, ALERT_PRIORITY[real.priority.toUpperCase()], `${id}: priority`);
    assert.deepEqual([...entry.tags], real.tags ?? [], `${id}: tags`);
    assert.equal(entry.source, real.source ?? 'syscall', `${id}: source`);
    assert.equal(entry.output, real.output.trim(), `${id}: output format`);
  }
});

test('catalogue names are unique and each names one rule', () => {
  const names = RULE_IDS.map((id) => RULES[id].name);
  assert.equal(new Set(names).size, names.length);
});

test('the syscall append_output adds the container and Kubernetes identity fields', () => {
  assert.deepEqual(
    [...compileFormat(SYSCALL_APPEND_OUTPUT).fields],
    [
      'container.id',
      'container.name',
      'container.image.repository',
      'container.image.tag',
      'k8s.pod.name',
      'k8s.ns.name',
    ],
  );
});
