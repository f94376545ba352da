import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { largestKth, selectKth } from '../../src/gate/threshold.ts';

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
