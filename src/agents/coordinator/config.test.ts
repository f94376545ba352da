import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { silentLogger } from '../../telemetry/logger.ts';
import { isFalconerError } from '../../errors.ts';
import { CoordinatorConfigSchema, resolveCoordinatorConfig } from './config.ts';
import { startCoordinatorService } from './service.ts';
import { FakePeers, report } from './testing/fakes.ts';
import { eventually, tempDir } from './testing/harness.ts';

const tmp = tempDir();
after(() => tmp.remove());

test('defaults: SQLite under dataDir, port 7600, link key under dataDir, public URL from the API address', () => {
  const cfg = CoordinatorConfigSchema.parse({});
  assert.equal(cfg.api.port, 7600);
  const r = resolveCoordinatorConfig(cfg, '/data');
  assert.equal(r.databaseUrl, 'sqlite:/data/coordinator.db');
  assert.equal(r.linkSecretFile, '/data/coordinator-link.key');
  assert.equal(r.publicUrl, 'http://127.0.0.1:7600');
  assert.deepEqual(r.credentials, []);
  assert.throws(() => CoordinatorConfigSchema.parse({ bogus: 1 }));
  assert.throws(() => CoordinatorConfigSchema.parse({ api: { token: 'short' } }));
});

test('tokens: inline or from files, one per user; duplicates refused', () => {
  writeFileSync(join(tmp.dir, 'bob.token'), 'bob-token-from-a-file-0123\n');
  const cfg = CoordinatorConfigSchema.parse({
    api: {
      token: 'operator-token-0123456789',
      users: [{ name: 'bob', tokenFile: 'bob.token' }],
    },
    publicUrl: 'https://falconer.example.com/',
  });
  const r = resolveCoordinatorConfig(cfg, tmp.dir);
  assert.deepEqual(r.credentials, [
    { user: 'operator', token: 'operator-token-0123456789' },
    { user: 'bob', token: 'bob-token-from-a-file-0123' },
  ]);
  assert.equal(r.publicUrl, 'https://falconer.example.com');
  const shared = CoordinatorConfigSchema.parse({
    api: {
      users: [
        { name: 'a', token: 'same-token-0123456789' },
        { name: 'b', token: 'same-token-0123456789' },
      ],
    },
  });
  assert.throws(
    () => resolveCoordinatorConfig(shared, tmp.dir),
    (e) => isFalconerError(e, 'CONFIG_INVALID'),
  );
  const missing = CoordinatorConfigSchema.parse({ api: { tokenFile: 'absent' } });
  assert.throws(
    () => resolveCoordinatorConfig(missing, tmp.dir),
    (e) => isFalconerError(e, 'CONFIG_INVALID'),
  );
});

test('startCoordinatorService: database, link key and API from the config; an incident flows; restart resumes', async () => {
  const config = CoordinatorConfigSchema.parse({
    api: { port: 0, token: 'operator-token-0123456789' },
    retryInitialMs: 10,
  });
  const peers = new FakePeers();
  const svc = await startCoordinatorService({ config, dataDir: tmp.dir, peers, logger: silentLogger() });
  let id: string;
  try {
    ({ incidentId: id } = await svc.coordinator.onSignal(report({ signalId: 's', lastSeenMs: Date.now() }), {
      messageId: 'm',
    }));
    await eventually(() => peers.delivered.size === 1);
    const res = await fetch(`${svc.api.url}/api/incidents/${id}`, {
      headers: { authorization: 'Bearer operator-token-0123456789' },
    });
    assert.equal(res.status, 200);
    assert.equal(
      ((await res.json()) as { incident: { status: string } }).incident.status,
      'awaiting_approval',
    );
  } finally {
    await svc.close();
  }
  const again = await startCoordinatorService({ config, dataDir: tmp.dir, peers, logger: silentLogger() });
  try {
    const res = await fetch(`${again.api.url}/api/incidents/${id}/proposals/p1/approve`, {
      method: 'POST',
      headers: { authorization: 'Bearer operator-token-0123456789', 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 200);
    await eventually(() => peers.delivered.size === 2);
  } finally {
    await again.close();
  }
});
