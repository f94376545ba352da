/**
 * plan() + complete() (what Gate.processBatch uses, a window of events planned ahead) must give
 * the very features that featurize() gives one event at a time, and the command-line memo must
 * not change a feature whatever lines collide or get evicted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNormalizer } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { generateScenario } from '../scenario/generate.ts';
import { alertLine } from '../scenario/serialize.ts';
import { FEATURE_COUNT, Featurizer, PLAN_SLOTS } from './featurizer.ts';
import { createRng } from './random.ts';

function scenarioEvents(count: number): NormalizedEvent[] {
  const normalize = createNormalizer({ cluster: 'plan' });
  const events: NormalizedEvent[] = [];
  for (const { alert } of generateScenario({ seed: 5, minutes: 3, rate: 100 })) {
    events.push(normalize(JSON.parse(alertLine(alert))));
    if (events.length === count) break;
  }
  return events;
}

test('planning ahead and completing in order equals featurizing one by one, bit for bit', () => {
  const events = scenarioEvents(6000);
  const one = new Featurizer();
  const planned = new Featurizer();
  const rng = createRng(17);
  const rows = Array.from({ length: PLAN_SLOTS }, () => new Float64Array(FEATURE_COUNT));
  let i = 0;
  while (i < events.length) {
    const window = Math.min(events.length - i, 1 + Math.floor(rng.next() * PLAN_SLOTS));
    for (let k = 0; k < window; k++) planned.plan(events[i + k]!, rows[k]!, k);
    // Only part of a window may be completed (a chunk cut short); the rest is planned again.
    const done = rng.next() < 0.2 ? Math.max(1, Math.floor(window / 2)) : window;
    for (let k = 0; k < done; k++) {
      if (k + 1 < window) planned.prefetch(k + 1);
      const got = planned.complete(k, rows[k]!);
      const want = one.featurize(events[i + k]!);
      assert.deepEqual(Array.from(got), Array.from(want), `event ${i + k}`);
    }
    i += done;
  }
  assert.equal(planned.eventsLearned, one.eventsLearned);
});

test('the command-line memo gives the features of an unmemoized featurizer under heavy churn', () => {
  const base = scenarioEvents(1500);
  // Many distinct lines of equal length sharing their sampled characters, plus long ones.
  const events = base.map((e, i) => {
    const cmdline =
      i % 3 === 0
        ? `sh -c run-${String(i % 977).padStart(4, '0')}-job --flag`
        : i % 3 === 1
          ? `python3 /app/${'x'.repeat(300)}${i % 5}`
          : String(e.fields['proc.cmdline'] ?? '');
    return { ...e, id: e.id, fields: { ...e.fields, 'proc.cmdline': cmdline } } as NormalizedEvent;
  });
  const memo = new Featurizer();
  for (let i = 0; i < events.length; i++) {
    const fresh = new Featurizer({ sketchWidth: 8, sketchDepth: 1 });
    // A fresh featurizer has an empty memo: its command features are computed, never recalled.
    const want = Array.from(fresh.featurize(events[i]!, new Float64Array(FEATURE_COUNT), false));
    const got = Array.from(memo.featurize(events[i]!, new Float64Array(FEATURE_COUNT), false));
    for (const f of [10, 11]) assert.equal(got[f], want[f], `event ${i} feature ${f}`);
  }
  assert.ok(memo.stateBytes() <= memo.maxStateBytes);
});

test('the identity memo gives the features of a featurizer without memos under churn', () => {
  const base = scenarioEvents(3000);
  const rng = createRng(23);
  // Replicas sharing an owner, rules and processes of equal lengths, over-long tuples, users,
  // ports and command lines that change under one tuple: every way an entry can be hit or evicted.
  const events = base.map((e, i) => {
    const r = rng.next();
    const fields: Record<string, unknown> = { ...e.fields };
    let rule = e.rule;
    if (r < 0.2) fields['proc.name'] = `p${String(i % 37).padStart(3, '0')}`;
    else if (r < 0.3) rule = `Rule ${'x'.repeat(200)} ${i % 7}`;
    else if (r < 0.4) fields['proc.pname'] = i % 2 === 0 ? undefined : `parent-${i % 11}`;
    if (rng.next() < 0.2) fields['user.name'] = `u${i % 5}${rng.next() < 0.1 ? 'y'.repeat(100) : ''}`;
    if (rng.next() < 0.2)
      fields['fd.name'] =
        `10.0.0.${i % 9}:4${i % 1000}->${i % 3 === 0 ? '52.0.1' : '10.0.1'}.${i % 5}:${80 + (i % 4)}`;
    if (rng.next() < 0.2)
      fields['proc.cmdline'] = `sh -c job-${i % 13}${rng.next() < 0.1 ? 'z'.repeat(300) : ''}`;
    // Another replica of the same owner (the key names the pod, as workloadOf makes it).
    const w = e.workload;
    const replica =
      w.pod === undefined ? undefined : `${w.pod.slice(0, -5)}${String(i % 9).padStart(5, 'b')}`;
    const workload =
      replica !== undefined && rng.next() < 0.3
        ? { ...w, pod: replica, key: `pod:${w.cluster}/${w.namespace}/${replica}` }
        : w;
    return { ...e, id: e.id, rule, workload, fields } as NormalizedEvent;
  });
  const memo = new Featurizer();
  const plain = new Featurizer();
  for (let i = 0; i < events.length; i++) {
    plain.clearMemos();
    const want = Array.from(plain.featurize(events[i]!, new Float64Array(FEATURE_COUNT)));
    const got = Array.from(memo.featurize(events[i]!, new Float64Array(FEATURE_COUNT)));
    assert.deepEqual(got, want, `event ${i}`);
  }
  assert.ok(memo.stateBytes() <= memo.maxStateBytes);
});
