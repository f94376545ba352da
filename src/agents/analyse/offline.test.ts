import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFalconerError } from '../../errors.ts';
import { normalizeAlert } from '../../events/normalize.ts';
import { generateScenario, scenarioAttacks } from '../../scenario/generate.ts';
import { ATTACK_KINDS, type AttackManifestEntry } from '../../scenario/types.ts';
import { AnalysisResult, type AnalyseInput, type EventWire } from '../contracts.ts';
import { handleAnalyse } from './handler.ts';
import { analyseOffline } from './offline.ts';
import { toEventWire } from '../event-wire.ts';

/** An incident as the coordinator would open it: on the workload most of the events come from. */
function incidentOf(events: EventWire[], maxScore = 0.6): AnalyseInput {
  const first = events[0] as EventWire;
  const last = events[events.length - 1] as EventWire;
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.workload.key, (counts.get(e.workload.key) ?? 0) + 1);
  const main = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const workload = (events.find((e) => e.workload.key === main) ?? first).workload;
  return {
    incident: {
      id: 'inc-1',
      workload,
      severity: 'medium',
      status: 'open',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      signals: [
        {
          id: 'sig-1',
          workload,
          firstSeenMs: first.timeMs,
          lastSeenMs: last.timeMs,
          eventIds: events.slice(0, 1000).map((e) => e.id),
          maxScore,
          rules: [...new Set(events.map((e) => e.rule))].slice(0, 64),
          priorityLevel: Math.min(...events.map((e) => e.priorityLevel)),
          count: events.length,
        },
      ],
    },
    events: events.slice(0, 500),
  };
}

interface Corpus {
  attacks: { manifest: AttackManifestEntry; events: EventWire[] }[];
  /** Benign events grouped as the gate would: per workload, per 10 minutes. */
  benign: EventWire[][];
}

function corpus(seeds: readonly number[]): Corpus {
  const out: Corpus = { attacks: [], benign: [] };
  for (const seed of seeds) {
    const opts = { seed, minutes: 120, rate: 1 };
    const manifests = new Map(scenarioAttacks(opts).map((a) => [a.id, a]));
    const byAttack = new Map<string, EventWire[]>();
    const benign = new Map<string, EventWire[]>();
    for (const { alert, label } of generateScenario(opts)) {
      const ev = toEventWire(normalizeAlert(alert));
      const key = label.attackId ?? `${ev.workload.key}|${Math.floor(ev.timeMs / 600_000)}`;
      const map = label.attackId === null ? benign : byAttack;
      const list = map.get(key) ?? [];
      list.push(ev);
      map.set(key, list);
    }
    for (const [id, events] of byAttack)
      out.attacks.push({ manifest: manifests.get(id) as AttackManifestEntry, events });
    out.benign.push(...benign.values());
  }
  return out;
}

const data = corpus([1, 2]);

function checkWellFormed(input: AnalyseInput, r: AnalysisResult): void {
  AnalysisResult.parse(r);
  assert.equal(r.analyst, 'offline');
  const ids = new Set(input.events.map((e) => e.id));
  for (const id of r.citedEventIds) {
    assert.ok(ids.has(id), `cited id ${id} is an input id`);
    assert.ok(r.explanation.includes(id), `cited id ${id} appears in the explanation`);
  }
}

describe('offline analyst on the scenario attacks', () => {
  for (const kind of ATTACK_KINDS) {
    it(`${kind}: every attack is a true positive with its labelled technique`, () => {
      const attacks = data.attacks.filter((a) => a.manifest.kind === kind);
      assert.ok(attacks.length >= 4, `scenario has ${kind} attacks`);
      for (const { manifest, events } of attacks) {
        const input = incidentOf(events);
        const r = handleAnalyse(input);
        checkWellFormed(input, r);
        const what = `${manifest.id} ${manifest.variant}: ${r.verdict} ${r.confidence} ${r.techniques.map((t) => t.id).join(',')}`;
        assert.equal(r.verdict, 'true_positive', what);
        assert.ok(r.confidence >= 0.8, what);
        assert.ok(
          r.techniques.some((t) => t.id === manifest.technique),
          `${what} lacks ${manifest.technique}`,
        );
        assert.ok(['high', 'critical'].includes(r.severity), what);
        assert.ok(r.citedEventIds.length > 0, what);
        assert.ok(r.recommendedActions.includes('label-pod'), what);
        if (kind === 'cryptominer') assert.ok(r.recommendedActions.includes('delete-pod'), what);
        if (kind === 'exfiltration' || kind === 'reverse_shell')
          assert.ok(r.recommendedActions.includes('isolate-pod'), what);
      }
    });
  }
});

describe('offline analyst on benign background', () => {
  it('never calls a benign incident a true positive, and dismisses most', () => {
    const counts = { true_positive: 0, needs_review: 0, false_positive: 0 };
    for (const events of data.benign) {
      const input = incidentOf(events);
      const r = analyseOffline(input);
      checkWellFormed(input, r);
      counts[r.verdict]++;
      assert.ok(r.verdict !== 'true_positive', `benign ${events[0]?.workload.key}: ${r.explanation}`);
      if (r.verdict === 'false_positive') assert.equal(r.recommendedActions.length, 1);
    }
    assert.ok(counts.false_positive > 0.7 * data.benign.length, JSON.stringify(counts));
  });

  it('explains build activity in a CI namespace away', () => {
    const ci = data.benign.find((events) =>
      events.some(
        (e) => e.workload.namespace === 'ci' && e.rule === 'Launch Package Management Process in Container',
      ),
    );
    assert.ok(ci !== undefined);
    const r = analyseOffline(incidentOf(ci));
    assert.notEqual(r.verdict, 'true_positive');
    assert.match(r.explanation, /build\/CI activity/);
  });
});

function syntheticEvent(over: Partial<EventWire> & { fields?: EventWire['fields'] } = {}): EventWire {
  return {
    id: 'ev-1',
    timeMs: Date.parse('2025-03-10T09:00:00Z'),
    time: '2025-03-10T09:00:00.000000000Z',
    rule: 'Known Cryptominer Process Executed',
    priority: 'Critical',
    priorityLevel: 2,
    source: 'syscall',
    hostname: 'node-1',
    tags: ['container', 'mitre_impact', 'T1496'],
    output: 'Cryptominer process executed',
    workload: {
      key: 'pod:default/shop/web-1',
      kind: 'pod',
      host: 'node-1',
      namespace: 'shop',
      pod: 'web-1',
      image: 'docker.io/evil/miner:latest',
    },
    ...over,
    fields: { 'proc.name': 'xmrig', 'proc.cmdline': 'xmrig -o stratum+tcp://pool:3333', ...over.fields },
  };
}

describe('offline analyst: safety and determinism', () => {
  it('escapes and bounds attacker-controlled text', () => {
    const hostile =
      'sh -c "x"\n- [event forged] fake finding @channel <!here> [click](http://evil)\u202e\u0007`' +
      'A'.repeat(9000);
    const events = [
      syntheticEvent({ fields: { 'proc.cmdline': `xmrig ${hostile}`, 'proc.name': 'xmrig\nforged' } }),
      syntheticEvent({ id: 'ev-2', rule: `Evil rule\n- [event ev-9] injected`, tags: [] }),
    ];
    const r = analyseOffline(incidentOf(events));
    AnalysisResult.parse(r);
    assert.ok(r.explanation.length <= 8000);
    assert.ok(!r.explanation.includes('\u202e'));
    assert.ok(!r.explanation.includes('\u0007'));
    assert.ok(!r.explanation.includes('A'.repeat(200)), 'long values are truncated');
    // Forged lines stay inside their quotes: no line of the explanation starts with them.
    for (const line of r.explanation.split('\n')) assert.ok(!/^- \[event (forged|ev-9)\]/.test(line), line);
    assert.ok(!r.citedEventIds.includes('ev-9'));
    assert.ok(r.explanation.includes('\\n- [event forged]'), 'newlines inside values are escaped');
  });

  it('never cites an id it cannot print safely', () => {
    const r = analyseOffline(incidentOf([syntheticEvent({ id: 'bad id\nwith newline' })]));
    assert.deepEqual(r.citedEventIds, []);
    assert.match(r.explanation, /unprintable id/);
  });

  it('is deterministic and independent of event order', () => {
    const { events } = data.attacks[0] as Corpus['attacks'][number];
    const input = incidentOf(events);
    const a = analyseOffline(input);
    const b = analyseOffline({ ...input, events: [...input.events].reverse() });
    assert.deepEqual(a, b);
  });

  it('proposes block-image when the miner came with the image (no drift, no download)', () => {
    const r = analyseOffline(incidentOf([syntheticEvent()]));
    assert.equal(r.verdict, 'true_positive');
    assert.deepEqual(r.techniques[0], { id: 'T1496', name: 'Resource Hijacking', tactic: 'Impact' });
    assert.ok(r.recommendedActions.includes('delete-pod'));
    assert.ok(r.recommendedActions.includes('block-image'));
  });

  it('uses emit-event instead of pod actions for host workloads', () => {
    const host = syntheticEvent({ workload: { key: 'host:node-1', kind: 'host', host: 'node-1' } });
    const r = analyseOffline(incidentOf([host]));
    assert.ok(!r.recommendedActions.some((a) => a.endsWith('-pod')));
    assert.ok(r.recommendedActions.includes('emit-event'));
  });

  it('does not dismiss an echo of a prior incident a human was asked to look at (same workload, same rule)', () => {
    const rule = 'Network Connection outside Local Subnet';
    const beacon = syntheticEvent({
      rule,
      priority: 'Notice',
      priorityLevel: 5,
      tags: ['network', 'mitre_command_and_control', 'T1071'],
      output: 'Network connection outside local subnet',
      fields: {
        'proc.name': 'python3',
        'proc.cmdline': 'python3 -m uvicorn app:app',
        'fd.name': '10.0.2.28:41498->198.51.100.173:443',
      },
    });
    const alone = analyseOffline(incidentOf([beacon]));
    assert.equal(alone.verdict, 'false_positive', 'one HTTPS connection alone is dismissed');
    // On a non-web port, an interpreter's connection is worth a look on its own (either rule fires for it).
    const oddPort = {
      ...beacon,
      fields: { ...beacon.fields, 'fd.name': '10.0.2.28:41498->198.51.100.173:4443' },
    };
    assert.equal(analyseOffline(incidentOf([oddPort])).verdict, 'needs_review');
    const prior = (verdict: 'needs_review' | 'false_positive' | 'true_positive', rules = [rule]) => ({
      ...incidentOf([beacon]),
      prior: [{ id: 'inc-before', status: 'resolved', verdict, msBefore: 2_000, rules }],
    });
    const echo = analyseOffline(prior('needs_review'));
    assert.equal(echo.verdict, 'needs_review');
    assert.match(
      echo.explanation,
      /incident inc-before, 2 s of event time before this one, was judged needs review/,
    );
    assert.equal(analyseOffline(prior('true_positive')).verdict, 'needs_review');
    assert.equal(analyseOffline(prior('false_positive')).verdict, 'false_positive', 'an echo of a dismissal');
    assert.equal(
      analyseOffline(prior('true_positive', ['Terminal shell in container'])).verdict,
      'false_positive',
      'another rule is no echo',
    );
  });

  it('answers needs_review for an incident without events', () => {
    const input = incidentOf([syntheticEvent()]);
    const r = analyseOffline({ ...input, events: [] });
    assert.equal(r.verdict, 'needs_review');
    assert.deepEqual(r.citedEventIds, []);
  });

  it('handleAnalyse refuses input that breaks the contract', () => {
    assert.throws(
      () => handleAnalyse({ incident: { id: 'x' }, events: [] }),
      (err) => isFalconerError(err, 'ANALYSE_INPUT_INVALID') && /incident/.test(err.message),
    );
  });
});
