import { ActionKind } from '../../src/agents/contracts.ts';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_POLICY_SOURCE_DIR, readBundle, sourceRevision } from '../../src/policy/bundle.ts';
import { EmbeddedEvaluator } from '../../src/policy/embedded.ts';
import type { PolicyEvaluator } from '../../src/policy/evaluator.ts';
import { OpaServerEvaluator } from '../../src/policy/opa-server.ts';
import { createPolicyEvaluator } from '../../src/policy/registry.ts';
import { PolicyConfig } from '../../src/policy/config.ts';
import { inputDigest } from '../../src/policy/input.ts';
import type { PolicyInput } from '../../src/policy/input.ts';
import { requireComponent } from '../support/components.ts';
import { OPA_BIN, opaAvailable, startOpaServer } from '../support/opa.ts';
import type { OpaServer } from '../support/opa.ts';

interface Row {
  name: string;
  input: PolicyInput;
  expect: { allowed: boolean; requiresApproval: boolean; approvalsRequired: number; reasons: string[] };
}
const table = JSON.parse(readFileSync(new URL('./decision-table.json', import.meta.url), 'utf8')) as {
  rows: Row[];
};
const REPO = new URL('../../', import.meta.url).pathname;
const HAVE_OPA = opaAvailable();

async function checkTable(evaluator: PolicyEvaluator, revision: string): Promise<void> {
  for (const row of table.rows) {
    const d = await evaluator.evaluate(row.input);
    assert.deepEqual(
      {
        allowed: d.allowed,
        requiresApproval: d.requiresApproval,
        approvalsRequired: d.approvalsRequired,
        reasons: d.reasons,
      },
      row.expect,
      `${evaluator.name}: ${row.name}`,
    );
    assert.equal(d.inputDigest, inputDigest(row.input));
    assert.equal(d.bundleRevision, revision);
  }
}

describe('policy evaluators: one decision table, two modes', () => {
  let server: OpaServer | undefined;
  const revision = sourceRevision();

  before(async () => {
    if (HAVE_OPA) server = await startOpaServer(DEFAULT_POLICY_SOURCE_DIR, revision);
  });
  after(async () => {
    await server?.stop();
  });

  it('the committed bundle is built from the current sources', () => {
    assert.equal(readBundle().revision, revision);
  });

  it('embedded (Wasm via @open-policy-agent/opa-wasm) passes the decision table', async () => {
    assert.ok(table.rows.length >= 20);
    const e = await EmbeddedEvaluator.load({ sourceDir: DEFAULT_POLICY_SOURCE_DIR });
    await checkTable(e, revision);
  });

  it('sidecar (real opa run --server) passes the same decision table', async (t) => {
    if (!requireComponent(t, 'opa', HAVE_OPA, `${OPA_BIN} (run scripts/opa.sh)`)) return;
    await checkTable(new OpaServerEvaluator({ url: server!.url, timeoutMs: 5000 }), revision);
  });

  it('both modes agree on random inputs (property, 150 inputs)', async (t) => {
    if (!requireComponent(t, 'opa', HAVE_OPA, `${OPA_BIN} (run scripts/opa.sh)`)) return;
    const embedded = await EmbeddedEvaluator.load();
    const sidecar = new OpaServerEvaluator({ url: server!.url, timeoutMs: 5000 });
    const kinds = ActionKind.options;
    const severity = fc.constantFrom('low', 'medium', 'high', 'critical');
    const arbInput = fc.record({
      inputVersion: fc.constant(1 as const),
      action: fc.record({
        id: fc.constant('act-1'),
        kind: fc.constantFrom(...kinds),
        podsAffected: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }),
        dryRun: fc.boolean(),
      }),
      target: fc.record({
        namespace: fc.constantFrom(
          'shop',
          'monitoring',
          'kube-system',
          'kube-public',
          'falconer',
          'secops',
          'a-b-c',
        ),
      }),
      incident: fc.record({
        id: fc.constant('inc-1'),
        severity,
        traceId: fc.constant('0af7651916cd43dd8448eb211c80319c'),
      }),
      analysis: fc.record({
        verdict: fc.constantFrom('true_positive', 'false_positive', 'needs_review'),
        confidence: fc.oneof(
          fc.constantFrom(0, 0.5, 0.9, 0.95, 1),
          fc.double({ min: 0, max: 1, noNaN: true }),
        ),
        severity,
        analyst: fc.constantFrom('offline', 'llm'),
      }),
      history: fc.record({
        isolationsLastHour: fc.integer({ min: 0, max: 15 }),
        actionsLastHour: fc.integer({ min: 0, max: 50 }),
      }),
      context: fc.record({ falconerNamespace: fc.constantFrom('falconer', 'secops') }),
    });
    await fc.assert(
      fc.asyncProperty(arbInput, async (input) => {
        const [a, b] = await Promise.all([embedded.evaluate(input), sidecar.evaluate(input)]);
        assert.deepEqual(a, b);
      }),
      { numRuns: 150 },
    );
  });

  it('malformed input is refused before evaluation, in both modes', async (t) => {
    const bad = { ...table.rows[0]!.input, target: { namespace: 'Kube System; drop' } } as PolicyInput;
    const evaluators: PolicyEvaluator[] = [await EmbeddedEvaluator.load()];
    if (requireComponent(t, 'opa', HAVE_OPA)) evaluators.push(new OpaServerEvaluator({ url: server!.url }));
    for (const e of evaluators) {
      await assert.rejects(e.evaluate(bad), { code: 'POLICY_INPUT_INVALID' });
      await assert.rejects(
        e.evaluate({ ...table.rows[0]!.input, inputVersion: 2 } as unknown as PolicyInput),
        { code: 'POLICY_INPUT_INVALID' },
      );
    }
  });

  it('a stale bundle is refused at load, and by scripts/build-policy-bundle.sh --check', async () => {
    const src = mkdtempSync(join(tmpdir(), 'falconer-rego-'));
    try {
      cpSync(DEFAULT_POLICY_SOURCE_DIR, src, { recursive: true });
      const ok = spawnSync('bash', [join(REPO, 'scripts/build-policy-bundle.sh'), '--check'], {
        encoding: 'utf8',
        env: { ...process.env, FALCONER_POLICY_SRC: src },
      });
      assert.equal(ok.status, 0, ok.stderr);
      const dataPath = join(src, 'falconer/data.json');
      writeFileSync(
        dataPath,
        readFileSync(dataPath, 'utf8').replace('"maxIsolationsPerHour": 10', '"maxIsolationsPerHour": 1000'),
      );
      await assert.rejects(EmbeddedEvaluator.load({ sourceDir: src }), { code: 'POLICY_BUNDLE_STALE' });
      const stale = spawnSync('bash', [join(REPO, 'scripts/build-policy-bundle.sh'), '--check'], {
        encoding: 'utf8',
        env: { ...process.env, FALCONER_POLICY_SRC: src },
      });
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /STALE/);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('a corrupt or missing bundle is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'falconer-bundle-'));
    try {
      writeFileSync(join(dir, 'bad.tar.gz'), 'not a bundle');
      await assert.rejects(EmbeddedEvaluator.load({ bundlePath: join(dir, 'bad.tar.gz') }), {
        code: 'POLICY_BUNDLE_INVALID',
      });
      await assert.rejects(EmbeddedEvaluator.load({ bundlePath: join(dir, 'missing.tar.gz') }), {
        code: 'POLICY_BUNDLE_INVALID',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the registry knows embedded and opa-server only', async () => {
    const e = await createPolicyEvaluator(PolicyConfig.parse({}));
    assert.equal(e.name, 'embedded');
    await assert.rejects(createPolicyEvaluator({ ...PolicyConfig.parse({}), evaluator: 'nope' as never }), {
      code: 'POLICY_EVALUATOR_UNKNOWN',
    });
    await assert.rejects(createPolicyEvaluator(PolicyConfig.parse({ evaluator: 'opa-server' })), {
      code: 'CONFIG_INVALID',
    });
  });
});

describe('opa-server evaluator fails closed', () => {
  const input = table.rows[0]!.input;
  let stub: Server;
  let stubUrl: string;
  let answer: (path: string) => { status: number; body: string } | 'hang';

  before(async () => {
    stub = createServer((req, res) => {
      const a = answer(req.url ?? '');
      if (a === 'hang') return; // never answers
      res.writeHead(a.status, { 'content-type': 'application/json' });
      res.end(a.body);
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
  });
  after(async () => {
    stub.closeAllConnections();
    await new Promise((r) => stub.close(r));
  });

  it('down: POLICY_SERVER_UNAVAILABLE', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await assert.rejects(new OpaServerEvaluator({ url: `http://127.0.0.1:${port}` }).evaluate(input), {
      code: 'POLICY_SERVER_UNAVAILABLE',
      message: /unreachable \(ECONNREFUSED\)/,
    });
  });

  it('slow: POLICY_SERVER_TIMEOUT after the timeout', async () => {
    answer = () => 'hang';
    const t0 = Date.now();
    await assert.rejects(new OpaServerEvaluator({ url: stubUrl, timeoutMs: 200 }).evaluate(input), {
      code: 'POLICY_SERVER_TIMEOUT',
      message: /did not answer within 200 ms/,
    });
    assert.ok(Date.now() - t0 < 3000);
  });

  it('malformed answers: POLICY_RESULT_INVALID or UNAVAILABLE, never an allow', async () => {
    const answers = [
      { status: 200, body: '{}' }, // undefined decision: the entrypoint is not loaded
      { status: 200, body: 'not json' },
      { status: 200, body: '{"result":{"allowed":"yes"}}' },
      {
        status: 200,
        body: '{"result":{"allowed":false,"requiresApproval":false,"approvalsRequired":0,"reasons":[]}}',
      },
      { status: 500, body: '{"code":"internal_error"}' },
    ];
    for (const a of answers) {
      answer = () => a;
      await assert.rejects(
        new OpaServerEvaluator({ url: stubUrl }).evaluate(input),
        (err: { code?: string }) =>
          ['POLICY_RESULT_INVALID', 'POLICY_SERVER_UNAVAILABLE'].includes(err.code ?? ''),
      );
    }
  });
});
