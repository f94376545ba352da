import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentWindow, quantileThreshold, selectKth } from '../../src/gate/threshold.ts';

/** The definition, by sorting: at least one at or above, ties never push the count over the target. */
function reference(scores: number[], rate: number): number {
  const sorted = [...scores].sort((a, b) => a - b);
  const n = sorted.length;
  const wanted = Math.max(1, Math.round(rate * n));
  const s = sorted[n - wanted]!;
  if (sorted.filter((v) => v >= s).length <= wanted) return s;
  const above = sorted.filter((v) => v > s);
  return above.length > 0
    ? above[0]!
    : Math.min(1, s + Math.max(Number.EPSILON, Math.abs(s) * Number.EPSILON * 4));
}

// Few distinct values, so that ties are common; below 1 like Isolation Forest scores (a threshold is at most 1).
const scoresArb = fc.array(
  fc.integer({ min: 0, max: 39 }).map((i) => i / 40),
  { minLength: 1, maxLength: 400 },
);

test('selectKth finds the k-th smallest, like sorting does', () => {
  fc.assert(
    fc.property(scoresArb, fc.nat(), (xs, k0) => {
      const k = k0 % xs.length;
      const sorted = [...xs].sort((a, b) => a - b);
      assert.equal(selectKth(Float64Array.from(xs), k), sorted[k]);
    }),
  );
});

test('quantileThreshold agrees with the sort-based definition and never exceeds the target because of ties', () => {
  fc.assert(
    fc.property(scoresArb, fc.constantFrom(0.005, 0.01, 0.05, 0.2, 0.5), (xs, rate) => {
      const scores = Float64Array.from(xs);
      const t = quantileThreshold(scores, rate);
      assert.equal(t, reference(xs, rate));
      const wanted = Math.max(1, Math.round(rate * xs.length));
      assert.ok(xs.filter((v) => v >= t).length <= wanted);
      assert.deepEqual(Array.from(scores), xs, 'input untouched');
    }),
  );
});

test('the recent window keeps the last vectors and their scores in lockstep', () => {
  const w = new RecentWindow(3, 2);
  assert.equal(w.knownScores().length, 0);
  for (let i = 0; i < 5; i++) {
    w.push([i, i * 10]);
    if (i % 2 === 0) w.setLastScore(i / 10);
  }
  assert.equal(w.size, 3);
  // Slots hold events 3, 4, 2 (ring order); event 3 has no score.
  assert.deepEqual(Array.from(w.rows()), [3, 30, 4, 40, 2, 20]);
  assert.deepEqual(Array.from(w.knownScores()), [0.4, 0.2]);
  w.setScores(Float64Array.from([0.7, 0.8, 0.9]));
  assert.deepEqual(Array.from(w.knownScores()), [0.7, 0.8, 0.9]);
});
