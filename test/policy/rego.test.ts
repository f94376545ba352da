import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_POLICY_SOURCE_DIR } from '../../src/policy/bundle.ts';
import { requireComponent } from '../support/components.ts';
import { OPA_BIN, opaAvailable } from '../support/opa.ts';

const HAVE_OPA = opaAvailable();
const opa = (...args: string[]) => spawnSync(OPA_BIN, args, { encoding: 'utf8' });

describe('Rego sources (real opa CLI)', () => {
  it('opa check --strict, opa fmt, and the opa tests pass', (t) => {
    if (!requireComponent(t, 'opa', HAVE_OPA, `${OPA_BIN} (run scripts/opa.sh)`)) return;
    const check = opa('check', '--strict', DEFAULT_POLICY_SOURCE_DIR);
    assert.equal(check.status, 0, check.stderr);
    const fmt = opa('fmt', '--list', DEFAULT_POLICY_SOURCE_DIR);
    assert.equal(fmt.stdout.trim(), '', `not opa-fmt formatted: ${fmt.stdout}`);
    const test = opa('test', DEFAULT_POLICY_SOURCE_DIR, '--format', 'json');
    assert.equal(test.status, 0, test.stdout.slice(0, 2000));
    const results = JSON.parse(test.stdout) as Array<{ name: string; fail?: boolean; error?: unknown }>;
    assert.ok(results.length >= 15, `only ${results.length} opa tests`);
    assert.deepEqual(
      results.filter((r) => r.fail || r.error).map((r) => r.name),
      [],
    );
  });
});
