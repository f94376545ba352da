import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNormalizer } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { backtest, compileCandidate } from '../../src/rules/backtest.ts';
import {
  createRulesBacktest,
  rulesValidate,
  RulesBacktestOutput,
  RulesValidateOutput,
} from '../../src/rules/tools.ts';
import { generateScenario } from '../../src/scenario/generate.ts';
import { SHARED_DATA } from '../support/paths.ts';

function scenarioEvents(): {
  events: NormalizedEvent[];
  attack: Map<string, boolean>;
  kinds: Map<string, string>;
} {
  const normalize = createNormalizer();
  const events: NormalizedEvent[] = [];
  const attack = new Map<string, boolean>();
  const kinds = new Map<string, string>();
  for (const { alert, label } of generateScenario({ seed: 3, minutes: 10, rate: 20 })) {
    const ev = normalize(alert);
    events.push(ev);
    attack.set(ev.id, label.label === 'attack');
    if (label.kind !== null) kinds.set(ev.id, label.kind);
  }
  return { events, attack, kinds };
}

const official = [
  {
    file: 'falco_rules.yaml',
    text: readFileSync(join(SHARED_DATA, 'falco', 'rules', 'falco_rules.yaml'), 'utf8'),
  },
];

test('backtest reports incident hits, other hits and precision/recall', () => {
  const { events, attack, kinds } = scenarioEvents();
  const minerIds = new Set([...kinds].filter(([, k]) => k === 'cryptominer').map(([id]) => id));
  assert.ok(minerIds.size > 0);
  const rule = compileCandidate(
    [
      '- rule: Miner pool port',
      '  desc: outbound connection to a mining pool port',
      '  condition: evt.type = connect and fd.rport in (3333, 4444, 5555, 7777, 14444, 14433) and not proc.name in (shell_binaries)',
      '  output: miner (proc=%proc.name)',
      '  priority: WARNING',
    ].join('\n'),
    official,
  );
  const report = backtest(rule, events, { incidentEventIds: minerIds, labels: attack });
  assert.equal(report.events, events.length);
  assert.equal(report.incident.events, minerIds.size);
  assert.ok(report.incident.hits > 0);
  assert.equal(report.hits, report.incident.hits + report.other.hits);
  assert.ok(
    report.labelled !== undefined && report.labelled.precision > 0.5,
    JSON.stringify(report.labelled),
  );
  assert.ok(report.other.hitRate < 0.001, String(report.other.hitRate));
});

test('candidate errors are located in the candidate', () => {
  assert.throws(
    () =>
      compileCandidate(
        '- rule: X\n  desc: d\n  condition: proc.name = a and not_a_macro\n  output: o\n  priority: INFO',
        official,
      ),
    (err: unknown) => {
      const issues = (err as { context: { issues: { file: string; line: number; message: string }[] } })
        .context.issues;
      return (
        issues[0]!.file === '<candidate>' &&
        issues[0]!.line === 3 &&
        /undefined macro/.test(issues[0]!.message)
      );
    },
  );
});

test('MCP handlers: rules.validate and rules.backtest outputs match their schemas', () => {
  const v = rulesValidate({ files: [{ file: 'a.yaml', content: '- macro: m\n  condition: a.b = (' }] });
  RulesValidateOutput.parse(v);
  assert.equal(v.valid, false);
  assert.equal(v.files[0]!.errors[0]!.line, 2);
  const { events } = scenarioEvents();
  const queries: unknown[] = [];
  const handler = createRulesBacktest({
    baseRules: official,
    events: (q) => {
      queries.push(q);
      return events.filter(
        (e) =>
          (q.fromMs === undefined || e.timeMs >= q.fromMs) &&
          (q.workloadKey === undefined || e.workload.key === q.workloadKey),
      );
    },
  });
  const out = handler({
    rule: '- rule: Shells\n  desc: d\n  condition: proc.name in (shell_binaries)\n  output: o\n  priority: NOTICE',
    fromMs: events[0]!.timeMs,
    labels: {},
  });
  RulesBacktestOutput.parse(out);
  assert.equal(out.valid, true);
  assert.ok(out.report!.hits > 0);
  assert.deepEqual(queries, [{ fromMs: events[0]!.timeMs }]);
  const bad = handler({
    rule: '- rule: B\n  desc: d\n  condition: "a.b ="\n  output: o\n  priority: NOTICE',
  });
  RulesBacktestOutput.parse(bad);
  assert.equal(bad.valid, false);
  assert.equal(bad.errors[0]!.line, 3);
});
