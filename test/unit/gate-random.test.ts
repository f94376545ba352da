import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, createRngFromState, deriveSeed } from '../../src/gate/random.ts';
import { isFalconerError } from '../../src/errors.ts';

function take(seed: number, count: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng.nextU32());
}

test('same seed gives the same sequence, different seeds differ', () => {
  assert.deepEqual(take(42, 1000), take(42, 1000));
  assert.notDeepEqual(take(42, 10), take(43, 10));
  assert.notDeepEqual(take(0, 10), take(-1, 10));
  // The high bits of a 53-bit seed matter too.
  assert.notDeepEqual(take(1, 10), take(1 + 2 ** 32, 10));
});

test('xoshiro128** matches the reference implementation from state {1,2,3,4}', () => {
  const rng = createRngFromState([1, 2, 3, 4]);
  const out = Array.from({ length: 6 }, () => rng.nextU32());
  assert.deepEqual(out, REFERENCE_1234);
});

test('sequence is pinned (guards reproducibility of models across versions)', () => {
  // Recorded from this implementation; a change here changes every trained model.
  assert.deepEqual(take(1, 4), PINNED_SEED_1);
});

test('nextU32 is a 32-bit unsigned integer and next() is in [0, 1)', () => {
  const rng = createRng(7);
  for (let i = 0; i < 10_000; i++) {
    const u = rng.nextU32();
    assert.ok(Number.isInteger(u) && u >= 0 && u < 2 ** 32);
    const x = rng.next();
    assert.ok(x >= 0 && x < 1);
  }
});

test('int(k) is in range and roughly uniform', () => {
  const rng = createRng(3);
  const k = 10;
  const counts = new Array<number>(k).fill(0);
  const draws = 100_000;
  for (let i = 0; i < draws; i++) {
    const v = rng.int(k);
    assert.ok(Number.isInteger(v) && v >= 0 && v < k);
    counts[v]!++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
  const expected = draws / k;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 27.9, `chi2 ${chi2}`);
  assert.equal(rng.int(1), 0);
  const big = rng.int(2 ** 40);
  assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 40);
});

test('bad seeds and bounds are refused with USAGE', () => {
  assert.throws(
    () => createRng(1.5),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => createRng(Number.NaN),
    (e) => isFalconerError(e, 'USAGE'),
  );
  const rng = createRng(1);
  assert.throws(
    () => rng.int(0),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => rng.int(2.5),
    (e) => isFalconerError(e, 'USAGE'),
  );
});

test('deriveSeed is deterministic, safe and stream-dependent', () => {
  const a = deriveSeed(5, 1);
  assert.equal(a, deriveSeed(5, 1));
  assert.ok(Number.isSafeInteger(a) && a >= 0);
  assert.notEqual(a, deriveSeed(5, 2));
  assert.notEqual(a, deriveSeed(6, 1));
});

const PINNED_SEED_1 = [257502877, 4019689638, 3580933848, 1825494849];
// First outputs of the reference C xoshiro128starstar.c (Blackman & Vigna) from s = {1, 2, 3, 4}.
const REFERENCE_1234 = [11520, 0, 5927040, 70819200, 2031721883, 1637235492];
