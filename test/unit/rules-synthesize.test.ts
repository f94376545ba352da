import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createNormalizer } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { backtest, compileCandidate } from '../../src/rules/backtest.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { parseCondition } from '../../src/rules/parser.ts';
import { printCondition } from '../../src/rules/print.ts';
import { refineRule } from '../../src/rules/refine.ts';
import { synthesizeRule } from '../../src/rules/synthesize.ts';
import { generateScenario } from '../../src/scenario/generate.ts';
import { ATTACK_KINDS, type AttackKind } from '../../src/scenario/types.ts';
import { SHARED_DATA } from '../support/paths.ts';

const baseRules = [
  {
    file: 'falco_rules.yaml',
    text: readFileSync(join(SHARED_DATA, 'falco', 'rules', 'falco_rules.yaml'), 'utf8'),
  },
];

// One scenario for the whole file: 40 minutes at 20 alerts/s holds at least one attack of every kind.
const normalize = createNormalizer();
const events: NormalizedEvent[] = [];
const kindOf = new Map<NormalizedEvent, AttackKind | null>();
const attacks = new Map<string, NormalizedEvent[]>();
for (const { alert, label } of generateScenario({ seed: 5, minutes: 40, rate: 20 })) {
  const ev = normalize(alert);
  events.push(ev);
  kindOf.set(ev, label.kind);
  if (label.attackId !== null)
    (attacks.get(label.attackId) ?? attacks.set(label.attackId, []).get(label.attackId)!).push(ev);
}
const benign = events.filter((e) => kindOf.get(e) === null);
const proposals: ReturnType<typeof synthesizeRule>[] = [];

test('for every attack kind the synthesized rule fires on the attack and on < 0.1 % of benign events', () => {
  for (const kind of ATTACK_KINDS) {
    const [id, incident] = [...attacks].find(([, evs]) => kindOf.get(evs[0]!) === kind) ?? [];
    assert.ok(id !== undefined && incident !== undefined, `the scenario has a ${kind} attack`);
    const proposal = synthesizeRule({
      incidentEvents: incident,
      baseline: () => events,
      baseRules,
      incidentId: id,
    });
    proposals.push(proposal);
    const { backtest: report } = proposal;
    assert.equal(report.valid, true, `${kind}: ${report.problems.join('; ')}`);
    assert.equal(report.accepted, true, `${kind}: ${report.problems.join('; ')}`);
    assert.equal(report.incident.hits, incident.length, `${kind} fires on every incident event`);
    assert.ok(report.baseline.rate <= 0.001);

    // Independently of the report: compile each rule from the YAML and count on the labels.
    const doc = parse(proposal.yaml) as { rule: string; source: string; condition: string }[];
    assert.equal(doc.length, proposal.rules.length);
    const compiled = doc.map((r) => ({
      source: r.source,
      rule: compileCandidate(proposal.yaml, baseRules, r.rule),
    }));
    const fires = (ev: NormalizedEvent): boolean =>
      compiled.some((c) => c.source === ev.source && c.rule.matches(ev.fields));
    assert.ok(incident.every(fires), `${kind}: every attack event`);
    const benignHits = benign.filter(fires).length;
    assert.ok(benignHits / benign.length < 0.001, `${kind}: ${benignHits} of ${benign.length} benign events`);
    // The condition round-trips through Falco's grammar (what the reviewer reads is what was tested).
    for (const r of doc)
      assert.equal(
        printCondition(parseCondition(printCondition(parseCondition(r.condition)))),
        printCondition(parseCondition(r.condition)),
      );
    assert.equal(
      proposal.rule.name,
      `Falconer ${id}${proposal.rules.length > 1 ? ` (${proposal.rule.source})` : ''}`,
    );
    assert.ok(proposal.rule.tags.includes('falconer'));
    // Labelled precision/recall from the backtester, with labels by event (no event id needed).
    const rule = compiled.find((c) => c.source === proposal.rule.source)!.rule;
    const r = backtest(rule, events, {
      source: rule.source,
      isIncident: (ev) => incident.includes(ev),
      labelOf: (ev) => kindOf.get(ev) !== null,
    });
    assert.ok(r.labelled !== undefined && r.labelled.truePositives > 0);
  }
});

test('the synthesized rule reuses official macros and lists where they fit', () => {
  const all = proposals;
  assert.equal(all.length, ATTACK_KINDS.length);
  const model = loadRules(baseRules);
  const reused = all.flatMap((p) =>
    p.rules.flatMap((r) => [...r.condition.matchAll(/[a-z_]+/g)].map((m) => m[0])),
  );
  assert.ok(
    reused.some((w) => model.macros.has(w)),
    'some official macro is reused',
  );
  assert.ok(all.every((p) => p.backtest.accepted));
});

test('attacker-written values stay inside quoted YAML and condition strings', () => {
  const evil = 'x" or proc.name exists or "\n- rule: pwned\n  condition: always_true #';
  const incident = events.slice(0, 3).map((e) =>
    normalize({
      hostname: 'h',
      output: 'o',
      priority: 'Critical',
      rule: 'Terminal shell in container',
      source: 'syscall',
      tags: ['mitre_execution', 'bad tag: x'],
      time: e.time,
      output_fields: {
        'evt.type': 'execve',
        'proc.name': evil,
        'proc.cmdline': evil,
        'container.image.repository': evil,
      },
    }),
  );
  const p = synthesizeRule({
    incidentEvents: incident,
    baseline: events,
    baseRules,
    incidentId: 'inc\n- rule: x',
  });
  assert.equal(p.backtest.accepted, true, p.backtest.problems.join('; '));
  const doc = parse(p.yaml) as { rule: string; condition: string; tags: string[] }[];
  assert.equal(doc.length, 1);
  assert.equal(doc[0]!.rule, 'Falconer inc---rule-x');
  assert.deepEqual(doc[0]!.tags.sort(), ['falconer', 'mitre_execution']);
  const rule = compileCandidate(p.yaml, baseRules);
  assert.equal(rule.matches(incident[0]!.fields), true);
  assert.equal(
    rule.matches({ 'evt.type': 'execve', 'proc.name': 'x', 'container.image.repository': 'x' }),
    false,
  );
});

test('refineRule: validates, backtests and asks repair until the rule is acceptable', async () => {
  const [, incident] = [...attacks].find(([, evs]) => kindOf.get(evs[0]!) === 'cryptominer')!;
  const good = synthesizeRule({
    incidentEvents: incident,
    baseline: events,
    baseRules,
    incidentId: 'm',
  }).yaml;
  const seen: string[][] = [];
  const candidates = [
    '- rule: Miner\n  desc: d\n  condition: evt.type = = connect\n  output: o\n  priority: WARNING\n', // invalid
    '- rule: Miner\n  desc: d\n  condition: evt.type exists\n  output: o\n  priority: WARNING\n', // far too noisy
    good,
  ];
  const result = await refineRule(
    '- rule: Miner\n  desc: d\n  condition: proc.name = nothing-like-it\n  output: o\n  priority: WARNING\n',
    {
      incidentEvents: incident,
      baseline: events,
      baseRules,
      maxRounds: 5,
      repair: async (_yaml, problems) => {
        seen.push([...problems]);
        return candidates[seen.length - 1]!;
      },
    },
  );
  assert.equal(result.accepted, true);
  assert.equal(result.yaml, good);
  assert.equal(result.rounds.length, 4);
  assert.match(seen[0]![0]!, /misses \d+ of \d+ incident events/);
  assert.match(seen[1]![0]!, /^invalid: <candidate>:3:/);
  assert.ok(seen[2]!.some((p) => /fires on \d+ of \d+ baseline events/.test(p)));

  const capped = await refineRule('- rule: X\n  condition: (\n', {
    incidentEvents: incident,
    baseline: events,
    baseRules,
    maxRounds: 2,
    repair: async (yaml) => yaml,
  });
  assert.equal(capped.accepted, false);
  assert.equal(capped.rounds.length, 3);
  assert.equal(capped.report.valid, false);
});
