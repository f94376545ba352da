import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentWindow, largestKth, selectKth } from '../../src/gate/threshold.ts';

test('largestKth is the k-th largest, like sorting (ties, duplicates, ±0 and infinities included)', () => {
  const value = fc.oneof(
    fc.double({ noNaN: true }),
    fc.constantFrom(0, -0, 1, 0.5, Infinity, -Infinity),
    fc.integer({ min: -3, max: 3 }),
  );
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 300 }), fc.nat(), (xs, kSeed) => {
      const k = 1 + (kSeed % xs.length);
      const a = Float64Array.from(xs);
      const sorted = [...xs].sort((x, y) => x - y);
      const got = largestKth(a, k);
      assert.ok(got !== undefined);
      // Same value as the quickselect path (== treats 0 and -0 alike, as the threshold comparison does).
      assert.ok(got === sorted[xs.length - k]);
      assert.ok(got === selectKth(a.slice(), xs.length - k));
      assert.deepEqual(a, Float64Array.from(xs), 'input left untouched');
    }),
    { numRuns: 500 },
  );
});

test('largestKth leaves input with a NaN to the quickselect path', () => {
  assert.equal(largestKth(Float64Array.from([1, Number.NaN, 3]), 1), undefined);
  assert.equal(largestKth(Float64Array.from([Number.NaN, 1, 3]), 2), undefined);
  assert.equal(largestKth(Float64Array.from([0.2, 0.9, 0.4, 0.7]), 2), 0.7);
});

test('RecentWindow.knownScores matches a plain filter of the held scores under any mix of operations', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const) }),
    fc.record({
      kind: fc.constant('last' as const),
      score: fc.oneof(fc.double({ min: 0, max: 1 }), fc.constant(NaN)),
    }),
    fc.record({ kind: fc.constant('at' as const), back: fc.nat(6), score: fc.double({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant('rescore' as const), score: fc.double({ min: 0, max: 1 }) }),
    fc.record({ kind: fc.constant('clear' as const) }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
      const w = new RecentWindow(capacity, 1);
      const model: number[] = []; // held scores by slot
      const slots: number[] = [];
      for (const o of ops) {
        if (o.kind === 'push') {
          const slot = w.push([1]);
          model[slot] = NaN;
          slots.push(slot);
        } else if (o.kind === 'last') {
          w.setLastScore(o.score);
          if (slots.length > 0) model[slots[slots.length - 1]!] = o.score;
        } else if (o.kind === 'at') {
          const slot = slots[slots.length - 1 - o.back];
          if (slot === undefined) continue;
          w.setScoreAt(slot, o.score);
          model[slot] = o.score;
        } else if (o.kind === 'rescore') {
          w.setScores(new Float64Array(w.size).fill(o.score));
          for (let i = 0; i < w.size; i++) model[i] = o.score;
        } else {
          w.clear();
          model.length = 0;
          slots.length = 0;
        }
      }
      const expected = model.slice(0, w.size).filter((v) => !Number.isNaN(v));
      assert.deepEqual(Array.from(w.knownScores()), expected);
    }),
    { numRuns: 500 },
  );
});
