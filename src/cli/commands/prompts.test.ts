import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Command } from 'commander';
import { shippedText } from '../../prompts/testing/fixtures.ts';
import { registerPromptsCommands } from './prompts.ts';

const tmp = mkdtempSync(join(tmpdir(), 'falconer-prompts-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ out: string; code: number }> {
  const program = new Command('falconer').exitOverride();
  let out = '';
  registerPromptsCommands(program, (t) => void (out += t));
  const before = process.exitCode;
  try {
    await program.parseAsync(['node', 'falconer', ...args]);
    return { out, code: Number(process.exitCode ?? 0) };
  } finally {
    process.exitCode = before;
  }
}

test('prompts check: the shipped prompts pass (exit 0)', async () => {
  const { out, code } = await cli(['prompts', 'check']);
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^ok {6}analyse\/incident-analysis 2\.0\.0 [0-9a-f]{12} .*analyse-incident-analysis\.yaml$/m,
  );
  assert.equal(out.trim().split('\n').length, 3);
});

test('prompts check: a bad file and a duplicate prompt are refused with file:line (exit 1)', async () => {
  const good = join(tmp, 'a.yaml');
  writeFileSync(good, shippedText('analyse-incident-analysis.yaml'));
  const dup = join(tmp, 'b.yaml');
  writeFileSync(
    dup,
    shippedText('analyse-incident-analysis.yaml').replace('name: analyse-incident-analysis', 'name: copy'),
  );
  const bad = join(tmp, 'c.yaml');
  writeFileSync(
    bad,
    shippedText('notify-incident-summary.yaml').replace('version: 2.0.0', 'version: latest'),
  );
  const { out, code } = await cli(['prompts', 'check', tmp]);
  assert.equal(code, 1);
  assert.match(
    out,
    /refused Conflict\n {2}prompt analyse\/incident-analysis is already defined by .*a\.yaml/,
  );
  assert.match(
    out,
    new RegExp(`refused InvalidSpec\\n  ${bad}:\\d+: spec\\.version: must be a semantic version`),
  );
  const json = await cli(['prompts', 'check', '--json', good]);
  assert.equal(json.code, 0);
  const line = JSON.parse(json.out) as { accepted: boolean; prompt: { version: string; hash: string } };
  assert.equal(line.accepted, true);
  assert.equal(line.prompt.version, '2.0.0');
  assert.equal(
    (
      await cli(['prompts', 'check', join(tmp, 'missing.yaml')]).catch((e: Error) => ({
        out: e.message,
        code: -1,
      }))
    ).code,
    -1,
  );
});
