import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevPki, issueCertificate } from '../../src/a2a/pki.ts';
import { agentSpiffeId, spiffeIdFromSubjectAltName } from '../../src/a2a/identity.ts';
import { loadTlsMaterial } from '../../src/a2a/tls-files.ts';
import { isFalconerError } from '../../src/errors.ts';

const opts = (dir: string) => ({
  dir,
  trustDomain: 'falconer.local',
  namespace: 'ns1',
  agents: ['detect', 'notify'] as const,
});

test('dev PKI: files, modes, SANs, EKU; idempotent; reissues what is wrong or expiring', async () => {
  const root = await mkdtemp(join(tmpdir(), 'falconer-pki-'));
  const dir = join(root, 'pki');
  try {
    const first = await ensureDevPki({ ...opts(dir), agents: ['detect', 'notify'] });
    assert.deepEqual(first.issued, ['ca', 'detect', 'notify']);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const f of ['ca.key', 'detect.key', 'notify.key'])
      assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
    const leaf = new X509Certificate(await readFile(join(dir, 'detect.crt')));
    const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
    assert.ok(ca.ca);
    assert.ok(leaf.verify(ca.publicKey));
    assert.equal(
      spiffeIdFromSubjectAltName(leaf.subjectAltName),
      agentSpiffeId('falconer.local', 'ns1', 'detect'),
    );
    assert.match(leaf.subjectAltName ?? '', /DNS:localhost/);
    assert.match(leaf.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.deepEqual(leaf.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    await loadTlsMaterial({
      certFile: join(dir, 'detect.crt'),
      keyFile: join(dir, 'detect.key'),
      caFile: join(dir, 'ca.crt'),
    });

    // Nothing to do the second time.
    assert.deepEqual((await ensureDevPki({ ...opts(dir), agents: ['detect', 'notify'] })).issued, []);
    // Another namespace: the SANs are wrong, leaves are reissued, the CA is kept.
    assert.deepEqual((await ensureDevPki({ ...opts(dir), namespace: 'ns2', agents: ['detect'] })).issued, [
      'detect',
    ]);
    // 85 days later the 90-day leaves expire within 7 days: reissued.
    const later = new Date(Date.now() + 85 * 86_400_000);
    assert.deepEqual(
      (await ensureDevPki({ ...opts(dir), namespace: 'ns2', agents: ['detect'], now: () => later })).issued,
      ['detect'],
    );
    // A key that does not fit its certificate: reissued.
    const other = await issueCertificate({ commonName: 'x' });
    await writeFile(join(dir, 'notify.key'), other.keyPem, { mode: 0o600 });
    assert.deepEqual((await ensureDevPki({ ...opts(dir), agents: ['notify'] })).issued, ['notify']);
    // A corrupt CA: a new CA and every leaf with it.
    await writeFile(join(dir, 'ca.crt'), 'garbage');
    assert.deepEqual((await ensureDevPki({ ...opts(dir), agents: ['detect', 'notify'] })).issued, [
      'ca',
      'detect',
      'notify',
    ]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('loadTlsMaterial names the unusable file', async () => {
  const root = await mkdtemp(join(tmpdir(), 'falconer-tls-'));
  try {
    const a = await issueCertificate({ commonName: 'a' });
    const b = await issueCertificate({ commonName: 'b' });
    await writeFile(join(root, 'c.crt'), a.certPem);
    await writeFile(join(root, 'c.key'), b.keyPem);
    await assert.rejects(
      loadTlsMaterial({
        certFile: join(root, 'c.crt'),
        keyFile: join(root, 'c.key'),
        caFile: join(root, 'c.crt'),
      }),
      (e: unknown) => isFalconerError(e, 'TLS_FILES_INVALID') && /c\.key does not fit/.test(e.message),
    );
    await assert.rejects(
      loadTlsMaterial({
        certFile: join(root, 'missing.crt'),
        keyFile: join(root, 'c.key'),
        caFile: join(root, 'c.crt'),
      }),
      (e: unknown) => isFalconerError(e, 'TLS_FILES_INVALID') && /missing\.crt/.test(e.message),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
