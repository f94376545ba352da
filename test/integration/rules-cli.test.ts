import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT, SHARED_DATA } from '../support/paths.ts';

const cli = (...args: string[]) =>
  spawnSync(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'test/support/rules-cli.ts'), 'rules', ...args],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    },
  );
const rules = (f: string) => join(SHARED_DATA, 'falco', 'rules', f);

test('falconer rules validate / test', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-rules-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ok = cli('validate', '--json', rules('falco_rules.yaml'), rules('k8s_audit_rules_legacy.yaml'));
  assert.equal(ok.status, 0, ok.stderr);
  const files = JSON.parse(ok.stdout) as { file: string; rules: number; errors: unknown[] }[];
  assert.deepEqual(
    files.map((f) => [f.rules, f.errors.length]),
    [
      [25, 0],
      [43, 0],
    ],
  );

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, '- rule: R\n  desc: d\n  condition: proc.name = x and\n  output: o\n  priority: INFO\n');
  const res = cli('validate', '--json', bad);
  assert.equal(res.status, 1);
  const [report] = JSON.parse(res.stdout) as {
    errors: { line: number; column: number; message: string }[];
  }[];
  assert.equal(report!.errors[0]!.line, 3);

  const k8s = cli(
    'test',
    '--rules',
    rules('falco_rules.yaml'),
    rules('k8s_audit_rules_legacy.yaml'),
    '--events',
    join(SHARED_DATA, 'k8s_audit', 'create_configmap_sensitive_values.json'),
    join(SHARED_DATA, 'k8s_audit', 'exec_pod.json'),
    '--source',
    'k8s_audit',
    '--json',
  );
  assert.equal(k8s.status, 0, k8s.stderr);
  assert.deepEqual(JSON.parse(k8s.stdout), {
    events: 7,
    detections: {
      'Create/Modify Configmap With Private Credentials': 6,
      'K8s ConfigMap Created': 6,
      'Attach/Exec Pod': 1,
    },
  });

  const alerts = join(dir, 'alerts.ndjson');
  writeFileSync(
    alerts,
    [
      JSON.stringify({ rule: 'x', output_fields: { 'proc.name': 'bash', 'evt.type': 'execve' } }),
      JSON.stringify({ rule: 'y', output_fields: { 'proc.name': 'ls' } }),
    ].join('\n'),
  );
  const own = join(dir, 'own.yaml');
  writeFileSync(
    own,
    '- rule: Shell\n  desc: d\n  condition: evt.type = execve and proc.name in (shell_binaries)\n  output: o\n  priority: INFO\n',
  );
  const sys = cli('test', '--rules', rules('falco_rules.yaml'), own, '--events', alerts, '--json');
  assert.equal(sys.status, 0, sys.stderr);
  assert.deepEqual(JSON.parse(sys.stdout), { events: 2, detections: { Shell: 1 } });
});
