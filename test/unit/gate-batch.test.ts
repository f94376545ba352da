import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNormalizer } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { Gate, type GateDecision, type GateOptions } from '../../src/gate/gate.ts';
import { createRng } from '../../src/gate/random.ts';
import { generateScenario } from '../../src/scenario/generate.ts';
import { alertLine } from '../../src/scenario/serialize.ts';

/** Real-shaped events: a generated scenario (background + attacks), serialized as Falco does, normalized. */
function scenarioEvents(count: number): NormalizedEvent[] {
  const normalize = createNormalizer({ cluster: 'batch-test' });
  const events: NormalizedEvent[] = [];
  for (const { alert } of generateScenario({
    seed: 5,
    minutes: Math.ceil(count / 200 / 60) + 2,
    rate: 200,
  })) {
    events.push(normalize(JSON.parse(alertLine(alert))));
    if (events.length === count) break;
  }
  return events;
}

/** Short periods so that retraining and recalibration happen many times inside the stream. */
const OPTIONS: GateOptions = {
  seed: 7,
  warmupEvents: 3000,
  retrainEveryEvents: 2500,
  retrainEveryMs: 60_000,
  recalibrateEveryEvents: 300,
  calibrationWindow: 1500,
  forwardRate: 0.01,
  forest: { trees: 40, sampleSize: 128 },
};

function summary(d: GateDecision) {
  return [d.eventId, d.score, d.forwarded, d.reason, d.modelVersion, d.signalUpdate, d.signal?.id];
}

test('processBatch makes exactly the decisions of process() on the same stream and seed, whatever the batch sizes', () => {
  const events = scenarioEvents(12_000);
  const one = new Gate(OPTIONS);
  const expected = events.map((ev) => summary(one.process(ev)));

  const rng = createRng(99);
  for (const sizes of ['random', 512, 1] as const) {
    const batched = new Gate(OPTIONS);
    const got: unknown[][] = [];
    for (let i = 0; i < events.length;) {
      const size = sizes === 'random' ? 1 + Math.floor(rng.next() * 1200) : sizes;
      for (const d of batched.processBatch(events.slice(i, i + size))) got.push(summary(d));
      i += size;
    }
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], expected[i], `decision ${i} (${sizes})`);
    assert.deepEqual(batched.stats, one.stats);
  }
  // The stream exercised what matters: models were retrained, thresholds moved, events were forwarded.
  assert.ok(one.stats.trainings >= 3, `trainings ${one.stats.trainings}`);
  assert.ok(one.stats.forwarded > 0 && one.stats.scored > 5000);
});

test('processBatch of an empty batch decides nothing and changes nothing', () => {
  const gate = new Gate(OPTIONS);
  assert.deepEqual(gate.processBatch([]), []);
  assert.equal(gate.stats.seen, 0);
});
