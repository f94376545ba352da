/**
 * A coordinator in a child process for the kill -9 test: it takes one
 * signal and drives it with in-process peers that append every call to a
 * journal file (what a real peer would have received) and then hang at the
 * step named on the command line, so the parent can SIGKILL it there.
 *
 *   node --import tsx crash-child.ts <db file> <journal file> <hang: propose|notify>
 */
import { appendFileSync } from 'node:fs';
import { AuditLog } from '../../../store/audit-log.ts';
import { openDatabase } from '../../../store/db.ts';
import { silentLogger } from '../../../telemetry/logger.ts';
import { Coordinator } from '../engine.ts';
import { LinkSigner } from '../link-tokens.ts';
import type { CoordinatorPeers } from '../peers.ts';
import { FakePeers, report } from './fakes.ts';
import { SECRET } from './secret.ts';

const [dbFile, journal, hangAt] = process.argv.slice(2);
if (!dbFile || !journal || !hangAt) throw new Error('usage: crash-child <db> <journal> <propose|notify>');

const inner = new FakePeers();
const hang = () => new Promise<never>(() => process.stdout.write(`hanging ${hangAt}\n`));
const peers: CoordinatorPeers = {
  analyse: async (input, ctx) => {
    appendFileSync(journal, JSON.stringify({ skill: 'analyse', messageId: ctx.messageId }) + '\n');
    return inner.analyse(input, ctx);
  },
  propose: async (input, ctx) => {
    appendFileSync(journal, JSON.stringify({ skill: 'propose', messageId: ctx.messageId }) + '\n');
    if (hangAt === 'propose') return hang();
    return inner.propose(input, ctx);
  },
  execute: (input, ctx) => inner.execute(input, ctx),
  notify: async (input, ctx) => {
    // Delivered to chat (journaled), then the process dies before the coordinator records it.
    appendFileSync(
      journal,
      JSON.stringify({ skill: 'notify', messageId: ctx.messageId, dedupeKey: input.dedupeKey }) + '\n',
    );
    if (hangAt === 'notify') return hang();
    return inner.notify(input, ctx);
  },
  feedback: (input, ctx) => inner.feedback(input, ctx),
};

const store = await openDatabase(`sqlite:${dbFile}`);
const coordinator = new Coordinator({
  store,
  peers,
  logger: silentLogger(),
  audit: new AuditLog(store),
  linkSigner: new LinkSigner(SECRET),
  publicUrl: 'http://127.0.0.1:7600',
  windowMs: 600_000,
  approvalExpiryMs: 3_600_000,
  peerTimeoutMs: 600_000,
});
await coordinator.onSignal(report({ signalId: 's1', lastSeenMs: Date.now() }), { messageId: 'signal-1' });
setInterval(() => undefined, 1000); // stay alive until killed
