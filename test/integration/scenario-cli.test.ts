/** `falconer scenario generate` end to end: the real CLI, real files, stdout mode, bad options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/paths.ts';
import type { AttackManifestEntry, FalcoAlertJson, ScenarioLabel } from '../../src/scenario/types.ts';

const BIN = join(PROJECT_ROOT, 'bin', 'falconer.js');

function falconer(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.length > 0);
}

test('writes alerts, aligned labels and the attack manifest, and prints a one-line summary', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-scenario-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'scn.ndjson');
  const r = falconer(['scenario', 'generate', '--seed', '9', '--minutes', '6', '--rate', '15', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const alerts = lines(readFileSync(out, 'utf8')).map((l) => JSON.parse(l) as FalcoAlertJson);
  const labels = lines(readFileSync(join(dir, 'scn.ndjson.labels.ndjson'), 'utf8')).map(
    (l) => JSON.parse(l) as ScenarioLabel,
  );
  const attacks = JSON.parse(
    readFileSync(join(dir, 'scn.ndjson.attacks.json'), 'utf8'),
  ) as AttackManifestEntry[];
  assert.ok(alerts.length > 3000, `${alerts.length} alerts`);
  assert.equal(labels.length, alerts.length);
  labels.forEach((l, i) => assert.equal(l.line, i + 1));
  assert.ok(
    alerts.every((a) => typeof a.rule === 'string' && typeof a.output_fields['evt.time'] === 'number'),
  );
  assert.equal(attacks.length, 6, 'one attack per kind in 6 minutes');
  assert.equal(
    labels.filter((l) => l.label === 'attack').length,
    attacks.reduce((n, a) => n + a.events, 0),
  );
  const summary = lines(r.stderr);
  assert.equal(summary.length, 1, r.stderr);
  assert.match(
    summary[0]!,
    new RegExp(`scenario seed=9 .* ${alerts.length} events, 6 attacks \\(reverse_shell 1, cryptominer 1, `),
  );
  assert.match(summary[0]!, /scn\.ndjson\.labels\.ndjson, .*scn\.ndjson\.attacks\.json$/);
});

test('stdout mode: pure alerts on stdout, labels only where --labels says, same bytes as the file mode', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-scenario-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const args = [
    'scenario',
    'generate',
    '--seed',
    '4',
    '--minutes',
    '2',
    '--rate',
    '10',
    '--start',
    '2025-03-04T10:00:00Z',
  ];
  const viaStdout = falconer([...args, '--labels', join(dir, 'l.ndjson')]);
  assert.equal(viaStdout.status, 0, viaStdout.stderr);
  const viaFile = falconer([...args, '--out', join(dir, 'a.ndjson')]);
  assert.equal(viaFile.status, 0, viaFile.stderr);
  assert.equal(viaStdout.stdout, readFileSync(join(dir, 'a.ndjson'), 'utf8'));
  assert.equal(
    readFileSync(join(dir, 'l.ndjson'), 'utf8'),
    readFileSync(join(dir, 'a.ndjson.labels.ndjson'), 'utf8'),
  );
  assert.ok(!existsSync(join(PROJECT_ROOT, '-.labels.ndjson')));
  assert.match(viaStdout.stderr, /-> stdout, .*l\.ndjson\n$/);
});

test('bad options fail with a clear message and a non-zero exit', () => {
  const missingSeed = falconer(['scenario', 'generate', '--minutes', '1']);
  assert.notEqual(missingSeed.status, 0);
  assert.match(missingSeed.stderr, /--seed/);
  const badMinutes = falconer(['scenario', 'generate', '--seed', '1', '--minutes', 'ten']);
  assert.notEqual(badMinutes.status, 0);
  assert.match(badMinutes.stderr, /--minutes.*positive number/);
  const tooLong = falconer(['scenario', 'generate', '--seed', '1', '--minutes', '999999999']);
  assert.equal(tooLong.status, 2);
  assert.match(tooLong.stderr, /USAGE.*minutes/);
  const unwritable = falconer([
    'scenario',
    'generate',
    '--seed',
    '1',
    '--minutes',
    '1',
    '--rate',
    '5',
    '--out',
    '/nonexistent-dir/x.ndjson',
  ]);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /IO_ERROR/);
});
