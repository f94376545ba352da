import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { averagePathLength, IsolationForest, type IsolationForestJson } from '../../src/gate/iforest.ts';
import { createRng } from '../../src/gate/random.ts';
import { isFalconerError } from '../../src/errors.ts';

const close = (actual: number, expected: number, eps = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= eps, `expected ${expected}, got ${actual}`);

test('c(n) special cases and hand-computed values', () => {
  assert.equal(averagePathLength(0), 0);
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  // c(3) = 2(ln 2 + γ) - 4/3
  close(averagePathLength(3), 1.2073923576, 1e-9);
  // c(4) = 2(ln 3 + γ) - 6/4
  close(averagePathLength(4), 1.8516559071, 1e-9);
  // c(256) = 2(ln 255 + γ) - 510/256
  close(averagePathLength(256), 10.2447709201, 1e-9);
});

/**
 * One tree over 1 feature, ψ = 5:
 *        [0] x <= 5
 *       /          \
 *   [1] leaf(3)   [2] x <= 8
 *                 /        \
 *            [3] leaf(1)  [4] leaf(1)
 */
function tinyForestJson(): IsolationForestJson {
  return {
    dimensions: 1,
    params: { trees: 1, sampleSize: 5, seed: 1, maxDepth: 3 },
    subsampleSize: 5,
    roots: [0],
    feature: [0, -1, 0, -1, -1],
    threshold: [5, 0, 8, 0, 0],
    left: [1, -1, 3, -1, -1],
    right: [2, -1, 4, -1, -1],
    size: [5, 3, 2, 1, 1],
  };
}

test('hand-built tree: h(x) = depth + c(leaf size), score = 2^(-h/c(ψ))', () => {
  const forest = IsolationForest.fromJSON(tinyForestJson());
  const c3 = 2 * (Math.log(2) + 0.5772156649) - 4 / 3;
  const c5 = 2 * (Math.log(4) + 0.5772156649) - 8 / 5;
  close(forest.pathLength([3]), 1 + c3);
  close(forest.pathLength([5]), 1 + c3); // x <= threshold goes left
  close(forest.pathLength([6]), 2);
  close(forest.pathLength([100]), 2);
  close(forest.score([3]), 2 ** (-(1 + c3) / c5));
  close(forest.score([6]), 2 ** (-2 / c5));
  // Offsets read the row from the middle of a buffer.
  close(forest.pathLength([0, 0, 6], 2), 2);
  const batch = forest.scoreBatch(new Float64Array([3, 6, 9]), 3);
  close(batch[0]!, 2 ** (-(1 + c3) / c5));
  close(batch[1]!, 2 ** (-2 / c5));
  close(batch[2]!, 2 ** (-2 / c5));
});

test('two distinct points: one split, leaves of size 1, h = 1 and score = 0.5', () => {
  const forest = IsolationForest.fit(new Float64Array([0, 1]), 2, 1, { trees: 3 });
  assert.equal(forest.subsampleSize, 2);
  assert.equal(forest.params.maxDepth, 1);
  for (const x of [-5, 0, 0.5, 1, 7]) {
    close(forest.pathLength([x]), 1);
    close(forest.score([x]), 0.5);
  }
});

test('constant data: the root stays a leaf of size n, h = c(n), score = 0.5', () => {
  const forest = IsolationForest.fit(new Float64Array(8).fill(3), 4, 2, { trees: 2 });
  assert.equal(forest.nodeCount, 2);
  close(forest.pathLength([3, 3]), averagePathLength(4));
  close(forest.score([99, -1]), 0.5);
});

test('defaults: 100 trees, ψ = 256 (capped at n), height limit ceil(log2 ψ)', () => {
  const rng = createRng(9);
  const n = 300;
  const data = new Float64Array(n * 2).map(() => rng.next());
  const forest = IsolationForest.fit(data, n, 2);
  assert.deepEqual({ ...forest.params }, { trees: 100, sampleSize: 256, seed: 1, maxDepth: 8 });
  assert.equal(forest.treeCount, 100);
  assert.equal(forest.subsampleSize, 256);
  const small = IsolationForest.fit(data, 100, 2);
  assert.equal(small.subsampleSize, 100);
  assert.equal(small.params.maxDepth, 7);
  // No tree can be deeper than the limit nor have more than 2ψ-1 nodes.
  const json = forest.toJSON();
  assert.ok(json.feature.length <= 100 * (2 * 256 - 1));
});

function syntheticSet(seed: number): { data: Float64Array; n: number; outliers: number } {
  const rng = createRng(seed);
  const inliers = 500;
  const outliers = 5;
  const n = inliers + outliers;
  const data = new Float64Array(n * 2);
  for (let i = 0; i < inliers; i++) {
    // Sum of uniforms: a bell shape around 0 with spread ~1.
    for (let j = 0; j < 2; j++) data[i * 2 + j] = rng.next() + rng.next() + rng.next() - 1.5;
  }
  for (let k = 0; k < outliers; k++) {
    data[(inliers + k) * 2] = 6 + k;
    data[(inliers + k) * 2 + 1] = -6 - k;
  }
  return { data, n, outliers };
}

test('obvious outliers score above every inlier', () => {
  const { data, n, outliers } = syntheticSet(11);
  const forest = IsolationForest.fit(data, n, 2, { seed: 4 });
  const scores = forest.scoreBatch(data, n);
  const inlierMax = Math.max(...scores.subarray(0, n - outliers));
  const outlierMin = Math.min(...scores.subarray(n - outliers));
  assert.ok(outlierMin > inlierMax, `outlier min ${outlierMin} <= inlier max ${inlierMax}`);
  assert.ok(outlierMin > 0.6, `outliers should score high, got ${outlierMin}`);
  // score() and scoreBatch() agree.
  for (let i = 0; i < n; i += 50) close(forest.score(data, i * 2), scores[i]!, 0);
});

test('seeded reproducibility: same data + params => bit-identical model', () => {
  const { data, n } = syntheticSet(12);
  const a = JSON.stringify(IsolationForest.fit(data, n, 2, { seed: 77, trees: 20 }));
  const b = JSON.stringify(IsolationForest.fit(data, n, 2, { seed: 77, trees: 20 }));
  assert.equal(a, b);
  const c = JSON.stringify(IsolationForest.fit(data, n, 2, { seed: 78, trees: 20 }));
  assert.notEqual(a, c);
});

test('toJSON / fromJSON round trip scores identically', () => {
  const { data, n } = syntheticSet(13);
  const forest = IsolationForest.fit(data, n, 2, { seed: 5, trees: 30, sampleSize: 64 });
  const copy = IsolationForest.fromJSON(JSON.parse(JSON.stringify(forest)));
  assert.deepEqual(copy.toJSON(), forest.toJSON());
  assert.deepEqual(copy.scoreBatch(data, n), forest.scoreBatch(data, n));
});

test('fit refuses bad input with TRAIN_DATA_INVALID', () => {
  const bad = (fn: () => unknown) => assert.throws(fn, (e) => isFalconerError(e, 'TRAIN_DATA_INVALID'));
  bad(() => IsolationForest.fit(new Float64Array([1]), 1, 1));
  bad(() => IsolationForest.fit(new Float64Array([1, 2, 3]), 2, 2));
  bad(() => IsolationForest.fit(new Float64Array([1, Number.NaN]), 2, 1));
  bad(() => IsolationForest.fit(new Float64Array([1, Infinity]), 2, 1));
  bad(() => IsolationForest.fit(new Float64Array([1, 2]), 2, 1, { trees: 0 }));
  bad(() => IsolationForest.fit(new Float64Array([1, 2]), 2, 1, { sampleSize: 1 }));
  bad(() => IsolationForest.fit(new Float64Array([1, 2]), 2, 1, { seed: 0.5 }));
  const forest = IsolationForest.fit(new Float64Array([1, 2]), 2, 1);
  assert.throws(
    () => forest.score([]),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => forest.scoreBatch(new Float64Array(1), 2),
    (e) => isFalconerError(e, 'USAGE'),
  );
});

function rejects(mutate: (j: IsolationForestJson) => void, pathPart: string) {
  const json = tinyForestJson();
  mutate(json);
  assert.throws(
    () => IsolationForest.fromJSON(json),
    (e) => isFalconerError(e, 'MODEL_INVALID') && String(e.context.path).includes(pathPart),
  );
}

test('fromJSON rejects structures that could hang or crash scoring', () => {
  assert.throws(
    () => IsolationForest.fromJSON(null),
    (e) => isFalconerError(e, 'MODEL_INVALID'),
  );
  assert.throws(
    () => IsolationForest.fromJSON([]),
    (e) => isFalconerError(e, 'MODEL_INVALID'),
  );
  rejects((j) => (j.left[0] = 0), 'left[0]'); // self-loop
  rejects((j) => (j.right[2] = 1), 'right[2]'); // points back up: cycle
  rejects((j) => (j.left[0] = 9), 'left[0]'); // out of range
  rejects((j) => (j.right[0] = 3), 'feature[2]'); // node 2 unreachable, node 3 shared
  rejects((j) => (j.left[1] = 4), 'left[1]'); // a leaf with children
  rejects((j) => j.threshold.pop(), 'threshold'); // wrong length
  rejects((j) => j.size.push(1), 'size');
  rejects((j) => (j.threshold[0] = Number.NaN), 'threshold[0]');
  rejects((j) => (j.threshold[2] = Infinity), 'threshold[2]');
  rejects((j) => (j.feature[0] = 1), 'feature[0]'); // >= dimensions
  rejects((j) => (j.feature[0] = 0.5), 'feature[0]');
  rejects((j) => (j.roots = [0, 2]), 'roots'); // trees = 1
  rejects((j) => (j.params.trees = 2), 'roots');
  rejects((j) => (j.params.maxDepth = 1), 'left[2]'); // node 3 at depth 2
  rejects((j) => (j.size[1] = 0), 'size[1]');
  rejects((j) => (j.subsampleSize = 1), 'subsampleSize');
  rejects((j) => (j.dimensions = 0), 'dimensions');
  rejects((j) => ((j as unknown as Record<string, unknown>).left = 'x'), 'left');
});

test('fromJSON on randomly corrupted node arrays either refuses or scores finitely', () => {
  const { data, n } = syntheticSet(14);
  const base = IsolationForest.fit(data, n, 2, { seed: 2, trees: 3, sampleSize: 16 }).toJSON();
  const keys = ['feature', 'left', 'right', 'size', 'roots'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...keys), fc.nat(), fc.integer({ min: -3, max: 200 }), (key, at, value) => {
      const json = structuredClone(base);
      const arr = json[key];
      arr[at % arr.length] = value;
      let forest: IsolationForest;
      try {
        forest = IsolationForest.fromJSON(json);
      } catch (e) {
        assert.ok(isFalconerError(e, 'MODEL_INVALID'));
        return;
      }
      const s = forest.score([0.1, -0.2]);
      assert.ok(Number.isFinite(s) && s > 0 && s <= 1);
    }),
    { numRuns: 500, seed: 1 },
  );
});

test('batch kernel and single-row walk agree bit for bit, also on ties, NaN and deep trees', () => {
  const rng = createRng(21);
  const n = 700;
  const d = 3;
  const data = new Float64Array(n * d);
  // Few distinct values (many ties) in two columns, a heavy tail in the third,
  // so that the kernel's bucket hints are often off and must be corrected.
  for (let i = 0; i < n; i++) {
    data[i * d] = rng.int(12) / 4;
    data[i * d + 1] = rng.int(3) - 1;
    data[i * d + 2] = (rng.next() < 0.5 ? -1 : 1) * Math.exp(rng.next() * 40);
  }
  const shallow = IsolationForest.fit(data, n, d, { seed: 3, trees: 25 });
  // maxDepth above the batch kernel's limit exercises the plain-walk fallback.
  const deep = IsolationForest.fit(data, n, d, { seed: 3, trees: 5, sampleSize: 700, maxDepth: 20 });
  const probe = new Float64Array([...data.subarray(0, 60 * d), Number.NaN, 1, 2, -1e308, 1e308, Infinity]);
  const rows = probe.length / d;
  for (const forest of [shallow, deep]) {
    const batch = forest.scoreBatch(probe, rows);
    for (let i = 0; i < rows; i++) assert.equal(batch[i], forest.score(probe, i * d), `row ${i}`);
  }
  assert.ok(deep.height > 12);
});

test('batch kernel equals the plain walk on random data and probes (property)', () => {
  const value = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.array(value, { minLength: 8, maxLength: 240 }),
      fc.array(fc.oneof(value, fc.constantFrom(Number.NaN, Infinity, -Infinity)), {
        minLength: 4,
        maxLength: 40,
      }),
      fc.integer({ min: 0, max: 1000 }),
      (d, values, probeValues, seed) => {
        const n = Math.floor(values.length / d);
        if (n < 2) return;
        const forest = IsolationForest.fit(Float64Array.from(values.slice(0, n * d)), n, d, {
          seed,
          trees: 7,
        });
        const rows = Math.floor(probeValues.length / d);
        const probe = Float64Array.from(probeValues.slice(0, rows * d));
        const batch = forest.scoreBatch(probe, rows);
        for (let i = 0; i < rows; i++) assert.equal(batch[i], forest.score(probe, i * d));
      },
    ),
    { numRuns: 200, seed: 4 },
  );
});
