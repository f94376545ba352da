import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reservoir, fitFromStream } from '../../src/gate/reservoir.ts';
import { createRng } from '../../src/gate/random.ts';
import { isFalconerError } from '../../src/errors.ts';

test('fills up to capacity, then keeps a sample; counts seen rows', () => {
  const r = new Reservoir(3, 2, 1);
  assert.equal(r.size, 0);
  r.add([1, 10]);
  r.add([2, 20]);
  assert.deepEqual(Array.from(r.rows()), [1, 10, 2, 20]);
  for (let i = 3; i <= 100; i++) r.add([0, 0, i, i * 10], 2);
  assert.equal(r.size, 3);
  assert.equal(r.seen, 100);
  const rows = r.rows();
  assert.equal(rows.length, 6);
  // Every kept row is one of the offered rows, intact.
  for (let k = 0; k < 3; k++) assert.equal(rows[k * 2 + 1], rows[k * 2]! * 10);
  // rows() is a copy.
  rows[0] = -1;
  assert.notEqual(r.rows()[0], -1);
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(r.seen, 0);
});

test('algorithm R keeps each row with probability capacity / seen', () => {
  const streamLength = 200;
  const capacity = 20;
  const runs = 2000;
  const kept = new Array<number>(streamLength).fill(0);
  for (let seed = 0; seed < runs; seed++) {
    const r = new Reservoir(capacity, 1, seed);
    for (let i = 0; i < streamLength; i++) r.add([i]);
    for (const v of r.rows()) kept[v]!++;
  }
  // Per decile of the stream, inclusion should be 0.1 (runs * 20 rows / 10 deciles).
  for (let decile = 0; decile < 10; decile++) {
    let sum = 0;
    for (let i = decile * 20; i < decile * 20 + 20; i++) sum += kept[i]!;
    const rate = sum / (20 * runs);
    assert.ok(Math.abs(rate - 0.1) < 0.01, `decile ${decile}: inclusion ${rate}`);
  }
});

test('same seed, same stream => same sample; clear() restarts the sequence', () => {
  const fill = (r: Reservoir) => {
    for (let i = 0; i < 1000; i++) r.add([i]);
    return Array.from(r.rows());
  };
  const a = new Reservoir(10, 1, 5);
  const first = fill(a);
  assert.deepEqual(fill(new Reservoir(10, 1, 5)), first);
  a.clear();
  assert.deepEqual(fill(a), first);
  assert.notDeepEqual(fill(new Reservoir(10, 1, 6)), first);
});

test('bad rows are refused without corrupting the sample', () => {
  const r = new Reservoir(4, 2, 1);
  r.add([1, 2]);
  assert.throws(
    () => r.add([1]),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => r.add([1, Number.NaN]),
    (e) => isFalconerError(e, 'TRAIN_DATA_INVALID'),
  );
  assert.equal(r.seen, 1);
  assert.deepEqual(Array.from(r.rows()), [1, 2]);
  assert.throws(
    () => new Reservoir(0, 1, 1),
    (e) => isFalconerError(e, 'USAGE'),
  );
});

test('fitFromStream trains on a reservoir sample, reproducibly', () => {
  function* stream() {
    const rng = createRng(8);
    for (let i = 0; i < 5000; i++) yield [rng.next(), rng.next()];
    yield [40, -40];
  }
  const a = fitFromStream(stream(), 2, { seed: 3, trees: 20, reservoirSize: 1000 });
  assert.equal(a.seen, 5001);
  assert.equal(a.sampled, 1000);
  assert.equal(a.forest.params.seed, 3);
  assert.equal(a.forest.subsampleSize, 256);
  const b = fitFromStream(stream(), 2, { seed: 3, trees: 20, reservoirSize: 1000 });
  assert.equal(JSON.stringify(a.forest), JSON.stringify(b.forest));
  assert.ok(a.forest.score([40, -40]) > a.forest.score([0.5, 0.5]));
});
