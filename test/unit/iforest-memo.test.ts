import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest } from '../../src/gate/iforest.ts';
import { createRng } from '../../src/gate/random.ts';

/** Rows drawn from a small set of prototypes with tiny jitter: many share their bins, some do not. */
function repetitiveRows(n: number, d: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const prototypes = Array.from({ length: 40 }, () => Array.from({ length: d }, () => rng.next() * 10));
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const p = prototypes[Math.floor(rng.next() * prototypes.length)]!;
    const jitter = rng.next() < 0.3 ? 1 : 1e-9;
    for (let j = 0; j < d; j++) data[i * d + j] = p[j]! + (rng.next() - 0.5) * jitter;
  }
  return data;
}

test('memoized batch scoring equals score() and plain scoreBatch bit for bit, across many blocks and memo clears', () => {
  const d = 7;
  const train = repetitiveRows(3000, d, 1);
  const forest = IsolationForest.fit(train, 3000, d, { trees: 60, sampleSize: 128, seed: 4 });
  // Enough rows, mostly distinct ones, to fill the memo past half several times (it clears itself).
  const n = 40_000;
  const probe = new Float64Array(n * d);
  const rng = createRng(9);
  const rep = repetitiveRows(n, d, 2);
  for (let i = 0; i < probe.length; i++) probe[i] = rng.next() < 0.5 ? rep[i]! : rng.next() * 12 - 1;
  const plain = forest.scoreBatch(probe, n);
  // Twice: the second pass is served mostly from the memo.
  for (let pass = 0; pass < 2; pass++) {
    const memo = forest.scoreBatch(probe, n, undefined, true);
    assert.deepEqual(memo, plain);
  }
  // Uneven sizes (partial blocks), and agreement with the single-row walk.
  let at = 0;
  for (const size of [1, 5, 389, 390, 391, 1000, 3]) {
    const part = forest.scoreBatch(probe.subarray(at * d, (at + size) * d), size, undefined, true);
    for (let i = 0; i < size; i++) assert.equal(part[i], forest.score(probe, (at + i) * d), `row ${at + i}`);
    at += size;
  }
});
