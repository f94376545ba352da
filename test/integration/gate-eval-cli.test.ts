import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, SHARED_DATA } from '../support/paths.ts';

function falconer(...args: string[]) {
  return spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'falconer.js'), ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('gate eval --csv trains unsupervised on breastw and reports AUC and timings', () => {
  const csv = join(SHARED_DATA, 'odds', 'breastw.csv');
  const run = falconer('gate', 'eval', '--csv', csv, '--json');
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as Record<string, number>;
  assert.deepEqual(Object.keys(out).sort(), ['auc', 'd', 'n', 'scoreMs', 'trainMs']);
  assert.equal(out.n, 683);
  assert.equal(out.d, 9);
  // The paper reports 0.99 on this set; scikit-learn gets about 0.985.
  assert.ok(out.auc! > 0.95 && out.auc! <= 1, `auc ${out.auc}`);
  assert.ok(out.trainMs! >= 0 && out.scoreMs! >= 0);
  // Seeded: the same seed reproduces the same AUC; another seed gives another model.
  const again = JSON.parse(falconer('gate', 'eval', '--csv', csv, '--json').stdout) as Record<string, number>;
  assert.equal(again.auc, out.auc);
  const other = falconer('gate', 'eval', '--csv', csv, '--json', '--seed', '7', '--trees', '50');
  assert.equal(other.status, 0, other.stderr);
  assert.notEqual((JSON.parse(other.stdout) as Record<string, number>).auc, out.auc);
});

test('gate eval refuses bad input with a clear error and exit code', () => {
  const missing = falconer('gate', 'eval', '--csv', join(SHARED_DATA, 'odds', 'nope.csv'), '--json');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /IO_ERROR/);
  const noLabel = falconer('gate', 'eval', '--csv', join(SHARED_DATA, 'odds', 'pima.csv'), '--label', 'y');
  assert.equal(noLabel.status, 1);
  assert.match(noLabel.stderr, /CSV_INVALID.*no label column 'y'/);
  const noMode = falconer('gate', 'eval', '--json');
  assert.equal(noMode.status, 2);
  assert.match(noMode.stderr, /USAGE.*--csv/);
  const badTrees = falconer('gate', 'eval', '--csv', 'x.csv', '--trees', 'many');
  assert.notEqual(badTrees.status, 0);
  assert.match(badTrees.stderr, /--trees/);
});
