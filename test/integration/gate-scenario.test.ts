/**
 * End to end: a seeded scenario written as NDJSON (alerts + labels sidecar) is
 * read back, normalized and run through the online gate exactly as in
 * production (warm-up, retraining, score-then-learn, signals). Asserts
 * reasonable quality bounds, never speed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenarioGenerate } from '../../src/cli/commands/scenario.ts';
import { evaluateEventFile } from '../../src/gate/eval-events-file.ts';
import { PROJECT_ROOT } from '../support/paths.ts';

test('a generated scenario through normalize → gate: bounded forward rate, most attacks become signals', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'falconer-gate-scenario-'));
  try {
    const out = join(dir, 'scenario.ndjson');
    const generated = await runScenarioGenerate({ seed: 7, minutes: 20, rate: 100, out });
    assert.ok(generated.attacks.length >= 6, 'the scenario injects every attack kind');

    // A shorter warm-up than the production default: 20 minutes at 100 alerts/s is a small scenario.
    const report = await evaluateEventFile(out, {
      gate: { warmupEvents: 5000, retrainEveryEvents: 30_000, seed: 7 },
    });
    assert.equal(report.labelsFile, `${out}.labels.ndjson`);
    assert.equal(report.rejected, 0);
    assert.ok(report.n > 100_000, `events ${report.n}`);
    assert.ok(report.trainings >= 3, `retrained on schedule: ${report.trainings}`);
    assert.ok(report.forwardRate > 0 && report.forwardRate <= 0.015, `forward rate ${report.forwardRate}`);
    assert.equal(report.attacks, generated.attacks.length);
    assert.ok(
      report.attackRecall !== null && report.attackRecall >= 5 / 6,
      `recall ${report.attacksDetected}/${report.attacks}`,
    );
    assert.ok(report.auc !== null && report.auc > 0.9, `auc ${report.auc}`);
    assert.ok(
      report.signals > 0 && report.signals < report.forwarded,
      'forwarded events are grouped into fewer signals',
    );
    assert.ok(Object.keys(report.perKind).length >= 6);
    for (const k of Object.values(report.perKind)) assert.match(k.technique ?? '', /^T\d{4}/);
    assert.ok(report.medianMsToSignal !== null && report.medianMsToSignal >= 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('falconer gate eval --events prints the report as JSON', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'falconer-gate-eval-'));
  try {
    const out = join(dir, 's.ndjson');
    await runScenarioGenerate({ seed: 3, minutes: 4, rate: 50, out });
    const cli = spawnSync(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin', 'falconer.js'),
        'gate',
        'eval',
        '--events',
        out,
        '--forward-rate',
        '0.01',
        '--json',
      ],
      { encoding: 'utf8', cwd: PROJECT_ROOT },
    );
    assert.equal(cli.status, 0, cli.stderr);
    const report = JSON.parse(cli.stdout) as Record<string, unknown>;
    for (const key of [
      'auc',
      'n',
      'd',
      'trainMs',
      'scoreMs',
      'forwardRate',
      'attackRecall',
      'perKind',
      'medianMsToSignal',
    ]) {
      assert.ok(key in report, `missing ${key}`);
    }
    assert.ok((report.n as number) > 10_000);
    assert.equal(report.forwardRateTarget, 0.01);

    const bad = spawnSync(
      process.execPath,
      [
        join(PROJECT_ROOT, 'bin', 'falconer.js'),
        'gate',
        'eval',
        '--events',
        out,
        '--labels',
        join(dir, 'missing.ndjson'),
      ],
      { encoding: 'utf8', cwd: PROJECT_ROOT },
    );
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /labels file not found/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
