import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Registry } from 'prom-client';
import { isFalconerError } from '../errors.ts';
import { DEFAULT_PROMPTS_DIR } from './config.ts';
import { openPromptSource, type OpenedPromptSource } from './open.ts';
import { eventually, shippedText } from './testing/fixtures.ts';

function tempPrompts(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-prompts-'));
  cpSync(DEFAULT_PROMPTS_DIR, dir, { recursive: true });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(t: TestContext, dir: string, rescanMs = 0, watch = true): Promise<OpenedPromptSource> {
  const source = await openPromptSource({
    config: { dir },
    debounceMs: 30,
    rescanMs,
    watch,
    metrics: new Registry(),
  });
  t.after(() => source.close());
  return source;
}

/** Writes a file the way editors do: a temp file renamed over the old one. */
function save(path: string, text: string): void {
  writeFileSync(`${path}.tmp~`, text);
  renameSync(`${path}.tmp~`, path);
}

test('the shipped deploy/prompts folder loads completely (the default of openPromptSource)', async (t) => {
  const source = await openPromptSource();
  t.after(() => source.close());
  assert.equal(source.kind, 'folder');
  assert.equal(source.location, DEFAULT_PROMPTS_DIR);
  assert.deepEqual(
    source.list().map((p) => `${p.agent}/${p.name}`),
    ['analyse/incident-analysis', 'analyse/rule-authoring', 'notify/incident-summary'],
  );
  assert.ok(
    source.statuses().every((s) => s.accepted),
    JSON.stringify(source.statuses()),
  );
  assert.equal(
    source.get('analyse', 'incident-analysis')!.origin,
    join(DEFAULT_PROMPTS_DIR, 'analyse-incident-analysis.yaml'),
  );
});

test('hot reload: an edited file is picked up by fs.watch; an invalid edit is refused and the previous version stays', async (t) => {
  const dir = tempPrompts(t);
  const source = await open(t, dir); // no periodic rescan: fs.watch alone
  const file = join(dir, 'analyse-incident-analysis.yaml');
  const original = shippedText('analyse-incident-analysis.yaml');
  const v1 = source.get('analyse', 'incident-analysis')!;

  save(
    file,
    original
      .replace('version: 2.0.0', 'version: 2.1.0')
      .replace('security analyst', 'senior security analyst'),
  );
  const v2 = await eventually('version 2.1.0', () => {
    const p = source.get('analyse', 'incident-analysis');
    return p?.version === '2.1.0' ? p : undefined;
  });
  assert.notEqual(v2.hash, v1.hash);
  assert.match(v2.system, /senior security analyst/);

  const bad = original.replace('version: 2.0.0', 'version: 2.2.0').replace('{{events}}', '{{secrets}}');
  writeFileSync(file, bad); // in place this time
  const refused = await eventually('the refusal', () => {
    const s = source.statuses().find((x) => x.key.startsWith(file));
    return s?.accepted === false ? s : undefined;
  });
  const line = bad.split('\n').findIndex((l) => l.includes('    user: |')) + 1;
  assert.equal(refused.reason, 'InvalidSpec');
  assert.match(
    refused.message,
    new RegExp(`^${file}:${line}: spec\\.templates\\.user: placeholder \\{\\{secrets\\}\\} is not declared`),
  );
  assert.equal(source.get('analyse', 'incident-analysis'), v2, 'the previous version stays');

  // A YAML syntax error: refused as unreadable, previous still there; fixing it brings the new version.
  save(file, 'spec: [unclosed\n');
  await eventually(
    'unreadable',
    () => source.statuses().find((x) => x.key.startsWith(file))?.reason === 'Unreadable',
  );
  assert.equal(source.get('analyse', 'incident-analysis'), v2);
  save(file, original.replace('version: 2.0.0', 'version: 2.3.0'));
  await eventually('2.3.0', () => source.get('analyse', 'incident-analysis')?.version === '2.3.0');
  assert.ok(source.statuses().every((s) => s.accepted));
});

test('files added, removed and multi-document files; unchanged files are not re-applied', async (t) => {
  const dir = tempPrompts(t);
  const source = await open(t, dir);
  const changes: string[] = [];
  source.onChange((c) => changes.push(`${c.kind} ${c.prompt.agent}/${c.prompt.name}@${c.prompt.version}`));

  unlinkSync(join(dir, 'notify-incident-summary.yaml'));
  await eventually('notify prompt removed', () => source.get('notify', 'incident-summary') === undefined);

  const notify = shippedText('notify-incident-summary.yaml');
  const second = notify
    .replace('name: notify-incident-summary', 'name: notify-incident-title')
    .replace('name: incident-summary', 'name: incident-title');
  writeFileSync(join(dir, 'notify.yml'), `${notify}---\n${second}`);
  await eventually(
    'both documents',
    () => source.get('notify', 'incident-title') && source.get('notify', 'incident-summary'),
  );
  const summaryKey = source.statuses().find((s) => s.prompt?.name === 'incident-summary')!.key;
  assert.equal(summaryKey, `${join(dir, 'notify.yml')}#notify-incident-summary`);
  assert.equal(
    source.get('notify', 'incident-title')!.origin,
    `${join(dir, 'notify.yml')}#notify-incident-title`,
  );

  // Dropping one document of the file removes just that prompt.
  save(join(dir, 'notify.yml'), second);
  await eventually('summary gone', () => source.get('notify', 'incident-summary') === undefined);
  assert.ok(source.get('notify', 'incident-title'));

  // Files that are not YAML, and dot-files (editor swap files), are ignored.
  writeFileSync(join(dir, 'README.md'), '# not a prompt');
  writeFileSync(join(dir, '.analyse.yaml.swp'), 'garbage: [');
  const before = changes.length;
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(changes.length, before, 'nothing changed');
  assert.deepEqual(changes, [
    'removed notify/incident-summary@2.0.0',
    'set notify/incident-summary@2.0.0',
    'set notify/incident-title@2.0.0',
    'removed notify/incident-summary@2.0.0',
  ]);
  assert.ok(source.statuses().every((s) => s.accepted));
});

test('the periodic rescan catches a change fs.watch did not report', async (t) => {
  const dir = tempPrompts(t);
  const source = await open(t, dir, 100, false); // no fs.watch: a file system that reports nothing
  save(
    join(dir, 'analyse-rule-authoring.yaml'),
    shippedText('analyse-rule-authoring.yaml')
      .replace('version: 2.0.0', 'version: 2.0.1')
      .replace('one rule', 'exactly one rule'),
  );
  await eventually('2.0.1 by rescan', () => source.get('analyse', 'rule-authoring')?.version === '2.0.1');
});

test('a folder that does not exist is a clear error at open', async () => {
  await assert.rejects(
    openPromptSource({ config: { dir: '/nonexistent/falconer-prompts' } }),
    (err: unknown) =>
      isFalconerError(err, 'PROMPT_SOURCE_UNAVAILABLE') &&
      err.message === 'cannot read the prompts folder /nonexistent/falconer-prompts: ENOENT',
  );
});

test('a too large file is refused, and a folder that disappears keeps the loaded prompts', async (t) => {
  const dir = tempPrompts(t);
  const source = await open(t, dir);
  writeFileSync(join(dir, 'big.yaml'), `# ${'x'.repeat(1_100_000)}\n`);
  const big = await eventually('big refused', () =>
    source.statuses().find((s) => s.key.includes('big.yaml')),
  );
  assert.equal(big.reason, 'Unreadable');
  assert.match(big.message, /1100003 bytes, more than the limit of 1048576/);
  rmSync(dir, { recursive: true, force: true });
  await source.refresh();
  assert.equal(source.list().length, 3, 'prompts stay when the folder vanishes');
});
