import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/paths.ts';

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/falconer.js', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, FALCONER_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('falconer up --demo replays a generated scenario over HTTP through the gate and reports the attacks', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'falconer-up-'));
  const { code, stdout, stderr } = await run([
    'up',
    '--demo',
    '--exit',
    '--json',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--minutes',
    '10',
    '--rate',
    '80',
    '--replay-rate',
    '50000',
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stderr, /ingest http:\/\/127\.0\.0\.1:\d+\/events/);
  const report = JSON.parse(stdout) as {
    events: number;
    rejected: number;
    scored: number;
    forwarded: number;
    forwardRate: number;
    signals: number;
    attacks: { kind: string; technique: string; detected: boolean }[];
    attacksDetected: number;
  };
  assert.ok(report.events > 40_000, `events ${report.events}`);
  assert.equal(report.rejected, 0);
  // Every accepted event went through the gate: warm-up events plus scored ones.
  assert.ok(report.scored > 0 && report.scored < report.events);
  assert.ok(report.forwardRate > 0 && report.forwardRate < 0.02, `forward rate ${report.forwardRate}`);
  assert.ok(report.signals > 0 && report.signals <= report.forwarded);
  assert.ok(report.attacks.length >= 6, 'at least one attack of each kind');
  assert.ok(new Set(report.attacks.map((a) => a.kind)).size >= 6);
  for (const a of report.attacks) assert.match(a.technique, /^T\d{4}(\.\d{3})?$/);
  // Attacks injected during warm-up can only pass on priority, so allow a few misses here;
  // the gate-quality benchmark measures recall properly.
  assert.ok(report.attacksDetected >= report.attacks.length / 2, JSON.stringify(report.attacks));
  // Signals were logged and the trained model was saved for the next start.
  const signals = readFileSync(join(dataDir, 'signals.ndjson'), 'utf8').trim().split('\n');
  assert.ok(signals.length >= report.signals);
  assert.ok(existsSync(join(dataDir, 'gate-model.json')));
});
