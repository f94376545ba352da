/**
 * Incremental retraining (retrainMode 'incremental'): the gate keeps scoring with the previous
 * model while the new one is built a step at a time, and the model it swaps in is the one an
 * inline retrain would have trained at the moment the retrain was due — same forest, same
 * threshold — with the calibration window re-scored by it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNormalizer } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { generateScenario } from '../scenario/generate.ts';
import { Gate, RETRAIN_STEP_EVENTS, type GateOptions } from './gate.ts';
import { IsolationForest } from './iforest.ts';

const OPTIONS: GateOptions = {
  seed: 5,
  warmupEvents: 3000,
  retrainEveryEvents: 4000,
  recalibrateEveryEvents: 0,
  calibrationWindow: 2500,
  forwardRate: 0.01,
  forest: { trees: 40, sampleSize: 128 },
};

function scenarioEvents(count: number): NormalizedEvent[] {
  const normalize = createNormalizer({ cluster: 'retrain' });
  const out: NormalizedEvent[] = [];
  for (const { alert } of generateScenario({ seed: 33, minutes: 5, rate: 100 })) {
    out.push(normalize(alert));
    if (out.length === count) break;
  }
  return out;
}

test('a forest fitted a few trees at a time is the forest fit() makes, bit for bit', () => {
  const n = 500;
  const d = 3;
  const data = new Float64Array(n * d).map((_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(i / 7));
  const params = { trees: 25, sampleSize: 64, seed: 11 };
  const whole = IsolationForest.fit(data, n, d, params);
  const fitter = IsolationForest.fitter(data, n, d, params);
  assert.throws(() => fitter.result(), /not fully grown/);
  let steps = 0;
  while (!fitter.grow(3)) steps++;
  assert.equal(steps, 8);
  assert.deepEqual(fitter.result().toJSON(), whole.toJSON());
});

test('incremental retraining: the previous model serves meanwhile, then the inline model swaps in', () => {
  const events = scenarioEvents(12_000);
  const inline = new Gate(OPTIONS);
  const incremental = new Gate({ ...OPTIONS, retrainMode: 'incremental' });
  const batch = 32;
  const inlineModels = new Map<string, NonNullable<Gate['model']>>();
  const incrementalModels = new Map<string, NonNullable<Gate['model']>>();
  let dueAt = -1; // the event after which both gates' second retrain was due
  let swappedAt = -1;
  for (let start = 0; start < events.length; start += batch) {
    const slice = events.slice(start, start + batch);
    inline.processBatch(slice);
    const b = incremental.processBatch(slice);
    for (const [g, seen] of [
      [inline, inlineModels],
      [incremental, incrementalModels],
    ] as const) {
      const m = g.model;
      if (m !== undefined) seen.set(m.modelVersion, m);
    }
    if (dueAt < 0 && inline.trainingCount === 2) dueAt = start + batch;
    if (dueAt < 0) continue;
    if (swappedAt < 0 && incremental.trainingCount === 2) swappedAt = start + batch;
    // Meanwhile the previous model serves every event.
    if (swappedAt < 0) for (const d of b) assert.equal(d.modelVersion, 'gate-5-1');
  }
  assert.ok(dueAt > 0, 'the inline gate retrained a second time');
  assert.ok(swappedAt > dueAt, 'the incremental gate swapped its model in later');
  // 40 trees at 4 per step, then 2,500 calibration rows at 1,024 per step: 13 steps.
  assert.ok(
    swappedAt - dueAt <= 13 * RETRAIN_STEP_EVENTS + batch,
    `swapped ${swappedAt - dueAt} events later`,
  );
  for (const version of ['gate-5-1', 'gate-5-2']) {
    const want = inlineModels.get(version);
    const got = incrementalModels.get(version);
    assert.ok(want && got, `both gates served ${version}`);
    assert.deepEqual(got.forest.toJSON(), want.forest.toJSON(), version);
    assert.equal(got.threshold?.score, want.threshold?.score, version);
    assert.equal(got.nTrain, want.nTrain, version);
  }
});

test('incremental retraining re-scores the calibration window with the new model, new rows included', () => {
  const events = scenarioEvents(9_000);
  const gate = new Gate({ ...OPTIONS, retrainMode: 'incremental' });
  for (let start = 0; start < events.length; start += 16) {
    gate.processBatch(events.slice(start, start + 16));
  }
  assert.equal(gate.trainingCount, 2);
  const model = gate.model!;
  const recent = recentOf(gate);
  const expected = model.forest.scoreBatch(recent.rows(), recent.size);
  const held = recentScoresOf(gate);
  // Every held score is the serving model's score of its row: re-scored at the swap, scored since.
  assert.deepEqual(Array.from(held), Array.from(expected));
});

test('an explicit retrain() or a loaded model supersedes an incremental retraining in progress', () => {
  const events = scenarioEvents(8_000);
  const gate = new Gate({ ...OPTIONS, retrainMode: 'incremental' });
  let i = 0;
  // Warm-up ends and the first retraining starts: process until it is under way.
  while (gate.trainingCount === 0 && i < events.length) gate.process(events[i++]!);
  while (gate.trainingCount === 1 && i < events.length && !jobOf(gate)) gate.process(events[i++]!);
  assert.ok(jobOf(gate), 'a retraining is in progress');
  const r = gate.retrain();
  assert.equal(r.modelVersion, 'gate-5-2');
  assert.equal(jobOf(gate), undefined);
  for (let k = 0; k < 3 * 64 && i < events.length; k++) gate.process(events[i++]!);
  assert.equal(gate.model?.modelVersion, 'gate-5-2', 'nothing from the abandoned job is swapped in');
});

// The gate's internals this test reads, and nothing else does.
interface Internals {
  recent: { rows(): Float64Array; size: number; knownScores(): Float64Array };
  job: unknown;
}
const internals = (g: Gate) => g as unknown as Internals;
const recentOf = (g: Gate) => internals(g).recent;
const recentScoresOf = (g: Gate) => internals(g).recent.knownScores().slice();
const jobOf = (g: Gate) => internals(g).job;
