/**
 * Pins the featurizer's output (and the normalizer's) bit for bit on a fixed
 * seeded scenario, so performance work on either cannot silently change a
 * feature value and thereby the gate's quality. If a change is *meant* to alter
 * features, bump FEATURE_SCHEMA and update the digest here deliberately.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createNormalizer } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { FEATURE_COUNT, Featurizer } from '../../src/gate/featurizer.ts';
import { generateScenario } from '../../src/scenario/generate.ts';
import { alertLine } from '../../src/scenario/serialize.ts';

const EVENTS = 30_000;

function scenarioEvents(): NormalizedEvent[] {
  const normalize = createNormalizer();
  const events: NormalizedEvent[] = [];
  for (const { alert } of generateScenario({ seed: 4, minutes: 6, rate: 100 })) {
    events.push(normalize(JSON.parse(alertLine(alert))));
    if (events.length >= EVENTS) break;
  }
  return events;
}

test('normalized scenario events are pinned', () => {
  const events = scenarioEvents();
  assert.equal(events.length, EVENTS);
  const hash = createHash('sha256');
  for (const ev of events) hash.update(JSON.stringify(ev)).update('\n');
  assert.equal(hash.digest('hex'), '0febe479a8f0a9b3d791fe213a587cda1d17e9d8161d4d4352d4f91cfa284b2e');
});

test('feature vectors of a seeded scenario are pinned bit for bit', () => {
  const events = scenarioEvents();
  const featurizer = new Featurizer();
  const hash = createHash('sha256');
  const out = new Float64Array(FEATURE_COUNT);
  let nonZero = 0;
  for (const ev of events) {
    featurizer.featurize(ev, out);
    for (let i = 0; i < FEATURE_COUNT; i++) if (out[i] !== 0) nonZero++;
    hash.update(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  }
  // Guard against a digest of a degenerate stream (all zeros).
  assert.ok(nonZero > EVENTS * 5, `too few non-zero features: ${nonZero}`);
  assert.equal(featurizer.eventsLearned, EVENTS);
  assert.equal(hash.digest('hex'), '8e01c11b2e2da5879dcd21c02a95d9bb4cdb461113c771d6ef687b9986d1f17c');
});
