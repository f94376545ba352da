/**
 * Our Isolation Forest against scikit-learn's on real ODDS data: mean AUC over
 * three seeds within 0.02. Needs the benchmark venv (bench/ensure-venv.sh);
 * skips visibly without it, fails without it under FALCONER_REQUIRE_ALL=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existingBenchPython, runSklearn } from '../../bench/venv.ts';
import { rocAuc } from '../../src/gate/auc.ts';
import { loadNumericCsv } from '../../src/gate/csv.ts';
import { IsolationForest } from '../../src/gate/iforest.ts';
import { requireComponent } from '../support/components.ts';
import { SHARED_DATA } from '../support/paths.ts';

const SEEDS = [1, 2, 3];
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

for (const dataset of ['breastw', 'satellite']) {
  test(`mean AUC on ${dataset} is within 0.02 of scikit-learn's (ψ=256, t=100, 3 seeds)`, async (t) => {
    const python = existingBenchPython();
    if (!requireComponent(t, 'scikit-learn venv', python !== null, 'run bench/ensure-venv.sh')) return;
    const path = join(SHARED_DATA, 'odds', `${dataset}.csv`);
    const table = await loadNumericCsv(path, { requireLabel: true });
    const ours = SEEDS.map((seed) => {
      const forest = IsolationForest.fit(table.data, table.n, table.d, { seed, trees: 100, sampleSize: 256 });
      return rocAuc(forest.scoreBatch(table.data, table.n), table.labels!);
    });
    const [theirs] = runSklearn(python!, [path], { seeds: SEEDS, reps: 1, trees: 100, sampleSize: 256 });
    assert.ok(theirs);
    assert.equal(theirs.n, table.n);
    assert.equal(theirs.d, table.d);
    const ourMean = mean(ours);
    const theirMean = mean(theirs.runs.map((r) => r.auc));
    assert.ok(
      Math.abs(ourMean - theirMean) <= 0.02,
      `ours ${ourMean.toFixed(4)} vs scikit-learn ${theirMean.toFixed(4)}`,
    );
  });
}
