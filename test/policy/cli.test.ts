import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerPolicyCommands } from '../../src/cli/commands/policy.ts';
import { DEFAULT_POLICY_SOURCE_DIR } from '../../src/policy/bundle.ts';

const table = JSON.parse(readFileSync(new URL('./decision-table.json', import.meta.url), 'utf8')) as {
  rows: Array<{ input: unknown; expect: { allowed: boolean } }>;
};

async function run(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  let out = '';
  registerPolicyCommands(program, (text) => (out += text));
  await program.parseAsync(args, { from: 'user' });
  return out;
}

describe('falconer policy', () => {
  it('eval prints the decision of the embedded policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'falconer-cli-'));
    try {
      const row = table.rows.find((r) => !r.expect.allowed)!;
      writeFileSync(join(dir, 'input.json'), JSON.stringify(row.input));
      const decision = JSON.parse(await run(['policy', 'eval', join(dir, 'input.json')])) as {
        allowed: boolean;
        inputDigest: string;
      };
      assert.equal(decision.allowed, false);
      assert.match(decision.inputDigest, /^[0-9a-f]{64}$/);
      writeFileSync(join(dir, 'bad.json'), '{"inputVersion": 1}');
      await assert.rejects(run(['policy', 'eval', join(dir, 'bad.json')]), { code: 'POLICY_INPUT_INVALID' });
      await assert.rejects(run(['policy', 'eval', join(dir, 'missing.json')]), { code: 'USAGE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bundle-check passes on the committed bundle and fails on changed sources', async () => {
    assert.match(await run(['policy', 'bundle-check']), /up to date \(sources-sha256:/);
    const src = mkdtempSync(join(tmpdir(), 'falconer-rego-'));
    try {
      cpSync(DEFAULT_POLICY_SOURCE_DIR, src, { recursive: true });
      writeFileSync(join(src, 'falconer/extra.rego'), 'package falconer.extra\n');
      await assert.rejects(run(['policy', 'bundle-check', '--sources', src]), {
        code: 'POLICY_BUNDLE_STALE',
      });
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});
