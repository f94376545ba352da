/**
 * The scenario generator: deterministic bytes, alerts that are well-formed Falco
 * JSON (accepted by normalizeAlert), outputs consistent with their fields,
 * labels aligned with lines and with the attack manifest, every attack kind
 * with its technique, and the daily rhythm of the people in the background.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createNormalizer } from '../../src/events/normalize.ts';
import { PRIORITIES } from '../../src/events/types.ts';
import { RULES, RULE_IDS, SYSCALL_APPEND_OUTPUT, type CatalogRule } from '../../src/scenario/catalog.ts';
import { fieldText } from '../../src/scenario/format.ts';
import { generateScenario, scenarioAttacks } from '../../src/scenario/generate.ts';
import { defaultStart } from '../../src/scenario/options.ts';
import { alertLine, labelLine } from '../../src/scenario/serialize.ts';
import { ATTACK_KINDS, type ScenarioEvent, type ScenarioOptions } from '../../src/scenario/types.ts';
import { isFalconerError } from '../../src/errors.ts';

const RULE_BY_NAME = new Map<string, CatalogRule>(RULE_IDS.map((id) => [RULES[id].name, RULES[id]]));

function digest(opts: ScenarioOptions): { hash: string; lines: number } {
  const h = createHash('sha256');
  let lines = 0;
  for (const { alert, label } of generateScenario(opts)) {
    h.update(alertLine(alert)).update('\n').update(labelLine(label)).update('\n');
    lines++;
  }
  return { hash: h.digest('hex'), lines };
}

function collect(opts: ScenarioOptions): ScenarioEvent[] {
  return [...generateScenario(opts)];
}

/** Fields Falco legitimately has no value for in these events. */
function mayBeNull(field: string, evtType: unknown): boolean {
  return (
    /^proc\.aname\[[4-7]\]$/.test(field) ||
    /^fd\.(lip|cip|rip|sip)\.name$/.test(field) ||
    field === 'user.loginname' ||
    field === 'evt.arg.name' ||
    field === 'evt.arg.filename' ||
    (field === 'fd.name' && evtType === 'execve')
  );
}

// One scenario shared by the structural tests: 12 minutes (one attack of each kind) at 40 alerts/s, in office hours.
const SMALL: ScenarioOptions = { seed: 11, minutes: 12, rate: 40, start: new Date('2025-03-04T10:00:00Z') };
const small = collect(SMALL);

test('same seed and options give byte-identical output; another seed does not', () => {
  const opts: ScenarioOptions = { seed: 42, minutes: 4, rate: 30 };
  const a = digest(opts);
  const b = digest(opts);
  assert.ok(a.lines > 1000);
  assert.equal(a.hash, b.hash);
  assert.notEqual(digest({ ...opts, seed: 43 }).hash, a.hash);
  assert.deepEqual(scenarioAttacks(opts), scenarioAttacks(opts));
});

test('the attack plan does not depend on the background rate', () => {
  assert.deepEqual(
    scenarioAttacks({ seed: 5, minutes: 30, rate: 10 }),
    scenarioAttacks({ seed: 5, minutes: 30, rate: 500 }),
  );
});

test('every alert is well-formed Falco JSON that normalizeAlert accepts, in time order', () => {
  const normalize = createNormalizer({ cluster: 'scenario' });
  let last = '';
  assert.ok(
    small.length > 20_000,
    `a 12-minute scenario at 40/s has about 28,800 alerts (got ${small.length})`,
  );
  for (const { alert } of small) {
    assert.deepEqual(Object.keys(alert), [
      'hostname',
      'output',
      'output_fields',
      'priority',
      'rule',
      'source',
      'tags',
      'time',
    ]);
    assert.match(alert.hostname, /^ip-10-0-\d+-\d+\.[a-z0-9-]+\.compute\.internal$/);
    assert.ok((PRIORITIES as readonly string[]).includes(alert.priority));
    assert.match(alert.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(alert.time >= last, 'alerts come in time order');
    last = alert.time;
    const rule = RULE_BY_NAME.get(alert.rule);
    assert.ok(rule, `known rule ${alert.rule}`);
    assert.equal(alert.priority, rule.priority);
    assert.equal(alert.source, rule.source);
    assert.deepEqual([...alert.tags], [...rule.tags]);
    const parsed = JSON.parse(alertLine(alert)) as Record<string, unknown>;
    const event = normalize(parsed);
    assert.equal(event.rule, alert.rule);
    assert.equal(event.time, alert.time);
    if (alert.source === 'syscall') {
      assert.equal(event.workload.kind, 'pod');
      assert.equal(event.workload.pod, alert.output_fields['k8s.pod.name']);
      assert.equal(event.workload.namespace, alert.output_fields['k8s.ns.name']);
    }
  }
});

test('output_fields hold exactly the fields of the format, and output is the format with them substituted', () => {
  for (const { alert } of small) {
    const rule = RULE_BY_NAME.get(alert.rule)!;
    const format = rule.source === 'syscall' ? `${rule.output} ${SYSCALL_APPEND_OUTPUT}` : rule.output;
    const fields = [...format.matchAll(/%([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*(?:\[[^\]]*\])?)/g)].map(
      (m) => m[1] as string,
    );
    assert.deepEqual(Object.keys(alert.output_fields), [...new Set([...fields, 'evt.time'])].sort());
    const f = alert.output_fields;
    const expected = `${alert.time.slice(11, 29)}: ${alert.priority} ${format.replace(
      /%([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*(?:\[[^\]]*\])?)/g,
      (_m, name: string) => fieldText(f[name] ?? null),
    )}`;
    assert.equal(alert.output, expected);
    assert.equal(typeof f['evt.time'], 'number');
    for (const [k, v] of Object.entries(f)) {
      if (v === null) assert.ok(mayBeNull(k, f['evt.type']), `${alert.rule}: ${k} has a value`);
      if (/^(fd\.[lr]port|user\.(uid|loginuid)|proc\.tty|group\.gid)$/.test(k))
        assert.equal(typeof v, 'number', `${k} is a number`);
    }
    assert.match(String(f['container.id'] ?? 'abcdef012345'), /^[0-9a-f]{12}$/);
  }
});

test('labels are aligned with lines and agree with the attack manifest', () => {
  const manifest = scenarioAttacks(SMALL);
  const byId = new Map(manifest.map((a) => [a.id, a]));
  const seen = new Map<string, number>();
  small.forEach(({ alert, label }, i) => {
    assert.equal(label.line, i + 1);
    assert.deepEqual(Object.keys(label), ['line', 'label', 'kind', 'technique', 'attackId']);
    if (label.label === 'benign') {
      assert.deepEqual([label.kind, label.technique, label.attackId], [null, null, null]);
      return;
    }
    const attack = byId.get(label.attackId!);
    assert.ok(attack, `attack ${label.attackId} is in the manifest`);
    assert.equal(label.kind, attack.kind);
    assert.equal(label.technique, attack.technique);
    assert.ok(alert.time >= attack.start && alert.time <= attack.end);
    assert.ok(attack.rules.includes(alert.rule));
    seen.set(attack.id, (seen.get(attack.id) ?? 0) + 1);
  });
  for (const a of manifest) assert.equal(seen.get(a.id), a.events, `${a.id}: manifest event count`);
  // The alert JSON itself carries nothing of the labels.
  for (const { alert } of small.filter((e) => e.label.label === 'attack')) {
    assert.ok(!/atk-\d|"attack"|"label"/.test(alertLine(alert)));
  }
});

test('each attack kind appears with its ATT&CK technique', () => {
  const techniques: Record<string, RegExp> = {
    reverse_shell: /^T1059\.004$/,
    cryptominer: /^T1496$/,
    credential_access: /^(T1003\.008|T1528|T1552\.005)$/,
    container_escape: /^T1611$/,
    lateral_movement: /^(T1609|T1610|T1552\.007)$/,
    exfiltration: /^(T1048|T1041)$/,
  };
  const labelled = new Map<string, Set<string>>();
  for (const { label } of small) {
    if (label.kind !== null)
      labelled.set(label.kind, (labelled.get(label.kind) ?? new Set()).add(label.technique!));
  }
  for (const kind of ATTACK_KINDS) {
    const seen = labelled.get(kind);
    assert.ok(seen && seen.size > 0, `${kind} appears in the stream`);
    for (const t of seen) assert.match(t, techniques[kind]!);
  }
  // Over a few default hours every playbook technique shows up.
  const all = new Set(
    [1, 2, 3, 4].flatMap((seed) => scenarioAttacks({ seed, minutes: 60 }).map((a) => a.technique)),
  );
  for (const t of [
    'T1059.004',
    'T1496',
    'T1003.008',
    'T1528',
    'T1552.005',
    'T1611',
    'T1609',
    'T1610',
    'T1552.007',
    'T1048',
    'T1041',
  ]) {
    assert.ok(all.has(t), `technique ${t} is used`);
  }
});

test('a default hour has at least two attacks of each kind, each a short sequence, well under 0.5 % of events', () => {
  for (const seed of [1, 2, 3]) {
    const attacks = scenarioAttacks({ seed });
    for (const kind of ATTACK_KINDS)
      assert.ok(attacks.filter((a) => a.kind === kind).length >= 2, `seed ${seed}: ${kind}`);
    for (const a of attacks) {
      assert.ok(a.events >= 2 && a.events <= 40, `${a.id} ${a.variant}: ${a.events} alerts`);
      const span = Date.parse(a.end) - Date.parse(a.start);
      assert.ok(span <= 15 * 60_000, `${a.id} ${a.variant} lasts ${span} ms`);
      assert.match(a.workload.containerId, /^[0-9a-f]{12}$/);
    }
    const attackEvents = attacks.reduce((n, a) => n + a.events, 0);
    assert.ok(attackEvents / (200 * 3600) < 0.005, `seed ${seed}: ${attackEvents} attack alerts`);
  }
  // More time, more attacks.
  assert.ok(
    scenarioAttacks({ seed: 1, minutes: 240 }).length > scenarioAttacks({ seed: 1, minutes: 60 }).length,
  );
});

test('default start: a Tuesday, in office hours, derived from the seed', () => {
  for (const seed of [0, 1, 2, 99, 123456]) {
    const start = defaultStart(seed);
    assert.equal(start.getUTCDay(), 2);
    assert.ok(start.getUTCHours() >= 8 && start.getUTCHours() <= 17);
    assert.equal(start.getUTCMinutes(), 0);
    assert.equal(defaultStart(seed).getTime(), start.getTime());
  }
});

test('people work office hours: admin sessions only 08:00-19:00, nightly jobs only at night', () => {
  const day = collect({ seed: 3, minutes: 24 * 60, rate: 1, start: new Date('2025-03-04T00:00:00Z') });
  let adminExecs = 0;
  let adminShells = 0;
  let nightlyStarts = 0;
  for (const { alert, label } of day) {
    if (label.label !== 'benign') continue;
    const hour = Number(alert.time.slice(11, 13));
    const f = alert.output_fields;
    const byPerson =
      alert.rule === 'Attach/Exec Pod' && String(f['ka.user.name']).endsWith('@acme-shop.example');
    const shell = alert.rule === 'Terminal shell in container';
    if (byPerson || shell) {
      assert.ok(hour >= 8 && hour < 19, `${alert.rule} at ${alert.time}`);
      if (byPerson) adminExecs++;
      else adminShells++;
    }
    if (alert.rule === 'Container Run as Root User' && String(f['k8s.pod.name']).startsWith('nightly-etl-')) {
      nightlyStarts++;
      assert.ok(hour < 5, `nightly job started at ${alert.time}`);
    }
  }
  assert.ok(adminExecs > 50, `admins worked (${adminExecs} sessions)`);
  assert.ok(adminShells > 30, `admins opened shells (${adminShells})`);
  assert.ok(nightlyStarts > 0, 'nightly jobs ran');
});

test('bad options are refused with a USAGE error', () => {
  for (const bad of [
    { seed: 1.5 },
    { seed: 1, minutes: 0 },
    { seed: 1, rate: -3 },
    { seed: 1, start: new Date('nope') },
  ]) {
    assert.throws(
      () => generateScenario(bad as ScenarioOptions).next(),
      (err: unknown) => isFalconerError(err, 'USAGE'),
    );
  }
});
