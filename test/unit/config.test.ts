import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNameFor, loadConfig, parseSetOverrides } from '../../src/config/load.ts';
import { isFalconerError } from '../../src/errors.ts';

test('defaults form a complete config', () => {
  const cfg = loadConfig({ env: {} });
  assert.equal(cfg.ingest.port, 2801);
  assert.equal(cfg.gate.forwardRate, 0.005);
  assert.equal(cfg.gate.sampleSize, 256);
  assert.equal(cfg.bus.kind, 'embedded');
});

test('file, then env, then overrides, in that order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-cfg-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'cluster: prod\ngate:\n  trees: 50\n  forwardRate: 0.01\n');
  const cfg = loadConfig({
    file,
    env: { FALCONER_GATE_FORWARD_RATE: '0.02', FALCONER_INGEST_PORT: '9000' },
    overrides: { 'gate.trees': 70 },
  });
  assert.equal(cfg.cluster, 'prod');
  assert.equal(cfg.gate.forwardRate, 0.02);
  assert.equal(cfg.ingest.port, 9000);
  assert.equal(cfg.gate.trees, 70);
});

test('env names follow the path', () => {
  assert.equal(envNameFor(['gate', 'forwardRate']), 'FALCONER_GATE_FORWARD_RATE');
  assert.equal(
    envNameFor(['ingest', 'rateLimit', 'perClientBurst']),
    'FALCONER_INGEST_RATE_LIMIT_PER_CLIENT_BURST',
  );
});

test('invalid values are listed with their path and env name', () => {
  assert.throws(
    () => loadConfig({ env: { FALCONER_GATE_FORWARD_RATE: '2', FALCONER_INGEST_PORT: 'http' } }),
    (err: unknown) => {
      assert.ok(isFalconerError(err, 'CONFIG_INVALID'));
      assert.match(err.message, /gate\.forwardRate \(FALCONER_GATE_FORWARD_RATE\)/);
      assert.match(err.message, /ingest\.port \(FALCONER_INGEST_PORT\)/);
      return true;
    },
  );
});

test('unknown keys and bad files are refused clearly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-cfg-'));
  const unknown = join(dir, 'u.yaml');
  writeFileSync(unknown, 'gatee: {}\n');
  assert.throws(() => loadConfig({ file: unknown, env: {} }), /invalid configuration/);
  const broken = join(dir, 'b.yaml');
  writeFileSync(broken, 'a: [\n');
  assert.throws(() => loadConfig({ file: broken, env: {} }), /not valid YAML/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), /cannot read config file/);
});

test('--set pairs reach keys without a default, parse like env values, and bad pairs are refused', () => {
  const overrides = parseSetOverrides([
    'analyse.mcp.url=http://127.0.0.1:7700/mcp',
    'analyse.mcp.tokenFile=/run/t=ok',
    'gate.trees=50',
  ]);
  assert.deepEqual(overrides, {
    'analyse.mcp.url': 'http://127.0.0.1:7700/mcp',
    'analyse.mcp.tokenFile': '/run/t=ok',
    'gate.trees': 50,
  });
  const config = loadConfig({ env: {}, overrides });
  assert.equal(config.analyse.mcp?.url, 'http://127.0.0.1:7700/mcp');
  assert.equal(config.gate.trees, 50);
  for (const bad of ['novalue', '=x', 'a..b=1', '__proto__.x=1']) {
    assert.throws(() => parseSetOverrides([bad]), /--set expects path=value/);
  }
});

test("detect's proposal pacing: a share of a core in (0, 1], from the file or FALCONER_RULES_PROPOSAL_CPU_SHARE", () => {
  assert.equal(loadConfig({ env: {} }).rules.proposalCpuShare, 0.25);
  assert.equal(loadConfig({ env: { FALCONER_RULES_PROPOSAL_CPU_SHARE: '0.1' } }).rules.proposalCpuShare, 0.1);
  for (const bad of ['0', '1.5'])
    assert.throws(
      () => loadConfig({ env: { FALCONER_RULES_PROPOSAL_CPU_SHARE: bad } }),
      (e) => isFalconerError(e) && /rules\.proposalCpuShare/.test(e.message),
    );
});
