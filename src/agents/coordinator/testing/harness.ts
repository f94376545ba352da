/** Builds a Coordinator on a real SQLite file for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../store/audit-log.ts';
import { openDatabase, type Store } from '../../../store/db.ts';
import { silentLogger } from '../../../telemetry/logger.ts';
import { Coordinator, type CoordinatorOptions } from '../engine.ts';
import { LinkSigner } from '../link-tokens.ts';
import { FakePeers } from './fakes.ts';
import { SECRET } from './secret.ts';

export interface Harness {
  store: Store;
  coordinator: Coordinator;
  peers: FakePeers;
  audit: AuditLog;
  links: LinkSigner;
  now: { ms: number };
  close(): Promise<void>;
}

export { SECRET };

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-coord-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `dbFile`: a SQLite file path, or a postgres:// URL. */
export async function harness(
  dbFile: string,
  peers: FakePeers = new FakePeers(),
  opts: Partial<CoordinatorOptions> & { startMs?: number } = {},
): Promise<Harness> {
  const store = await openDatabase(/^postgres(ql)?:\/\//.test(dbFile) ? dbFile : `sqlite:${dbFile}`);
  const now = { ms: opts.startMs ?? 1_700_000_000_000 };
  const clock = opts.clock ?? (() => now.ms);
  const audit = new AuditLog(store, clock);
  const links = new LinkSigner(SECRET, clock);
  const coordinator = new Coordinator({
    store,
    peers,
    logger: silentLogger(),
    audit,
    linkSigner: links,
    publicUrl: 'http://127.0.0.1:7600',
    windowMs: 10 * 60_000,
    approvalExpiryMs: 60 * 60_000,
    clock,
    retry: { initialMs: 10, maxMs: 50 },
    peerTimeoutMs: 5000,
    ...opts,
  });
  return {
    store,
    coordinator,
    peers,
    audit,
    links,
    now,
    async close() {
      await coordinator.close();
      await store.close();
    },
  };
}

/** Polls until the predicate holds (the engine works asynchronously after onSignal). */
export async function eventually(pred: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
