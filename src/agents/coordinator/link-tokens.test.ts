import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isFalconerError } from '../../errors.ts';
import { openDatabase } from '../../store/db.ts';
import { LinkSigner, loadLinkSecret, markLinkUsed } from './link-tokens.ts';
import { SECRET, tempDir } from './testing/harness.ts';

const tmp = tempDir();
after(() => tmp.remove());

test('a signed link verifies; tampered, re-signed with another key, expired and malformed links are refused', () => {
  const now = { ms: 1_000_000 };
  const signer = new LinkSigner(SECRET, () => now.ms);
  const token = signer.sign({
    incidentId: 'inc-1',
    proposalId: 'p1',
    action: 'approve',
    expiresAt: 2_000_000,
  });
  const claims = signer.verify(token);
  assert.equal(claims.incidentId, 'inc-1');
  assert.equal(claims.proposalId, 'p1');
  assert.equal(claims.action, 'approve');

  const [v, body, mac] = token.split('.') as [string, string, string];
  const forgedClaims = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), act: 'reject' }),
  ).toString('base64url');
  const invalid = (e: unknown) => isFalconerError(e, 'LINK_INVALID');
  assert.throws(() => signer.verify(`${v}.${forgedClaims}.${mac}`), invalid, 'changed claims');
  assert.throws(() => signer.verify(`${v}.${body}.${mac.slice(0, -2)}AA`), invalid, 'changed signature');
  assert.throws(() => signer.verify(`${v}.${body}`), invalid, 'missing part');
  assert.throws(() => signer.verify('v2.a.b'), invalid, 'unknown version');
  const other = new LinkSigner(Buffer.alloc(32, 7), () => now.ms);
  assert.throws(() => other.verify(token), invalid, 'another key');

  now.ms = 2_000_000;
  assert.throws(
    () => signer.verify(token),
    (e) => isFalconerError(e, 'LINK_EXPIRED'),
  );
  assert.throws(
    () => new LinkSigner(Buffer.alloc(8)),
    (e) => isFalconerError(e, 'CONFIG_INVALID'),
  );
});

test('a link is single use: its jti is recorded and a replay is refused', async () => {
  const store = await openDatabase(`sqlite:${join(tmp.dir, 'links.db')}`);
  try {
    const signer = new LinkSigner(SECRET, () => 0);
    const claims = signer.verify(
      signer.sign({ incidentId: 'i', proposalId: 'p', action: 'reject', expiresAt: 10 }),
    );
    await store.db.transaction().execute((trx) => markLinkUsed(trx, claims, 1));
    await assert.rejects(
      store.db.transaction().execute((trx) => markLinkUsed(trx, claims, 2)),
      (e) => isFalconerError(e, 'LINK_USED'),
    );
  } finally {
    await store.close();
  }
});

test('the link secret file is created once (0600) and then reused', () => {
  const file = join(tmp.dir, 'sub', 'link.key');
  const a = loadLinkSecret(file, { create: true });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(loadLinkSecret(file), a);
  writeFileSync(join(tmp.dir, 'short.key'), 'short');
  assert.throws(
    () => loadLinkSecret(join(tmp.dir, 'short.key')),
    (e) => isFalconerError(e, 'CONFIG_INVALID'),
  );
  assert.throws(
    () => loadLinkSecret(join(tmp.dir, 'absent.key')),
    (e) => isFalconerError(e, 'CONFIG_INVALID'),
  );
});
