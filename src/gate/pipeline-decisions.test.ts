/**
 * Pins the gate's decisions end to end (JSON.parse → normalize → featurize → score → gate, through
 * processBatch in batches of 512 as the detect service calls it) on a fixed seeded scenario, so
 * performance work anywhere on that path cannot silently change a score, a threshold, a forward or
 * a signal. Short retrain and recalibration periods make models and thresholds change many times.
 * If a change is *meant* to alter decisions, update the digest here deliberately and say why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createNormalizer } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { generateScenario } from '../scenario/generate.ts';
import { alertLine } from '../scenario/serialize.ts';
import { Gate } from './gate.ts';

const EVENTS = 16_000;
const BATCH = 512;

test('decisions of the full pipeline on a seeded scenario are pinned', () => {
  const lines: string[] = [];
  for (const { alert } of generateScenario({ seed: 21, minutes: 3, rate: 100 })) {
    lines.push(alertLine(alert));
    if (lines.length === EVENTS) break;
  }
  assert.equal(lines.length, EVENTS);
  const normalize = createNormalizer({ cluster: 'pinned' });
  const gate = new Gate({
    seed: 9,
    warmupEvents: 4000,
    retrainEveryEvents: 3000,
    recalibrateEveryEvents: 400,
    calibrationWindow: 2000,
    forwardRate: 0.01,
    forest: { trees: 50, sampleSize: 256 },
  });
  const hash = createHash('sha256');
  let forwarded = 0;
  const batch: NormalizedEvent[] = [];
  for (let start = 0; start < lines.length; start += BATCH) {
    batch.length = 0;
    for (let i = start; i < Math.min(lines.length, start + BATCH); i++)
      batch.push(normalize(JSON.parse(lines[i]!)));
    for (const d of gate.processBatch(batch)) {
      if (d.forwarded) forwarded++;
      hash.update(
        `${d.score}|${d.forwarded}|${d.reason}|${d.modelVersion}|${d.signalUpdate}|${d.signal?.id}|${d.forwarded ? d.eventId : ''}\n`,
      );
    }
  }
  // The stream exercised what matters: several models, moving thresholds, forwards.
  assert.ok(gate.stats.trainings >= 3, `trainings ${gate.stats.trainings}`);
  assert.ok(forwarded > 20, `forwarded ${forwarded}`);
  assert.equal(hash.digest('hex'), '130753f35e8982d3c64167412645fcf2d509bd064ee654bc8095aadb57e690c3');
});
