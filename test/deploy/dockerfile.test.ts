/**
 * The image: no Docker engine runs here, so the Dockerfile is linted with
 * hadolint, checked for the properties that matter (pinned base, non-root,
 * exec-form entrypoint, native build only in the build stage), and the
 * runtime stage's file layout is rebuilt in a temp dir and started.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { PROJECT_ROOT } from '../support/paths.ts';
import { findTool, runTool } from './tools.ts';

const DOCKERFILE = join(PROJECT_ROOT, 'Dockerfile');
const text = readFileSync(DOCKERFILE, 'utf8');

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function instructions(source: string): Instruction[] {
  const joined = source
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const space = l.indexOf(' ');
      return { op: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
    });
}

const all = instructions(text);
const stages: Instruction[][] = [];
for (const ins of all) {
  if (ins.op === 'FROM') stages.push([]);
  stages[stages.length - 1]?.push(ins);
}
const runtime = stages[stages.length - 1]!;

test('hadolint finds nothing in the Dockerfile', (t) => {
  const hadolint = findTool('hadolint');
  if (!requireComponent(t, 'hadolint', hadolint !== undefined, 'run `bash scripts/helm-tools.sh`')) return;
  const run = runTool(hadolint!, ['--no-color', '--failure-threshold', 'info', DOCKERFILE]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('base images are pinned Node 20 bookworm tags, and the build toolchain stays in the build stage', () => {
  const arg = all.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  assert.ok(arg, 'ARG NODE_IMAGE');
  assert.match(arg.args, /^NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/);
  assert.equal(stages.length, 2);
  for (const stage of stages) assert.match(stage[0]!.args, /^\$\{NODE_IMAGE\} AS \w+$/);
  const build = stages[0]!.map((i) => i.args).join('\n');
  assert.match(build, /apt-get install -y --no-install-recommends python3 make g\+\+/);
  assert.match(build, /npm ci --omit=dev/);
  const runtimeText = runtime.map((i) => `${i.op} ${i.args}`).join('\n');
  assert.doesNotMatch(runtimeText, /g\+\+|apt-get install|npm (ci|install)/);
  assert.match(runtimeText, /COPY --from=build \/app\/node_modules/);
});

test('the runtime runs as uid 10001 with an exec-form entrypoint and no remote ADD', () => {
  const users = runtime.filter((i) => i.op === 'USER');
  assert.equal(users.at(-1)?.args, '10001:10001');
  const afterUser = runtime.slice(runtime.indexOf(users.at(-1)!));
  assert.ok(!afterUser.some((i) => i.op === 'RUN'), 'nothing runs as root after USER');
  assert.deepEqual(JSON.parse(runtime.find((i) => i.op === 'ENTRYPOINT')!.args), ['node', 'bin/falconer.js']);
  assert.ok(!all.some((i) => i.op === 'ADD'), 'COPY, never ADD');
  assert.ok(!all.some((i) => /curl|wget/.test(i.args)), 'nothing fetched outside the package managers');
  assert.match(text, /docker build -t falconer:/, 'the build command is documented');
});

test('the runtime stage layout (COPY sources + production node_modules) starts the CLI', (t) => {
  const copies = runtime
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .map((i) => i.args.split(/\s+/));
  const dir = mkdtempSync(join(tmpdir(), 'falconer-image-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const parts of copies) {
    const dest = parts.at(-1)!;
    for (const src of parts.slice(0, -1)) {
      const target = dest.endsWith('/') || parts.length > 2 ? join(dir, dest, src) : join(dir, dest);
      cpSync(join(PROJECT_ROOT, src), target, { recursive: true });
    }
  }
  // The image has `npm ci --omit=dev`; this checkout's node_modules stands in for it.
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'));
  const run = spawnSync(process.execPath, ['bin/falconer.js', '--help'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000, // tsx compiles the CLI's sources on first start; slow on a loaded 2-core machine
    env: { ...process.env, HOME: dir, NODE_ENV: 'production' },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /Usage: falconer/);
});

test('.dockerignore keeps the build context to what the image copies', () => {
  const ignore = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8');
  assert.match(ignore, /^\*\*$/m, 'everything is excluded by default');
  for (const needed of [
    'package.json',
    'package-lock.json',
    'bin/',
    'src/',
    'deploy/prompts/',
    'policies/bundle.tar.gz',
  ]) {
    assert.ok(ignore.includes(`!${needed}`), `${needed} is let in`);
  }
});
