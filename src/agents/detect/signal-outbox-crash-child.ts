/**
 * Detect's signal outbox in a child process, for the kill -9 test: it opens
 * the state database, queues every report it is given (one JSON array on the
 * command line), says `persisted <n>` once they are all in the journal and
 * delivers them by POSTing each message to the parent's URL, which plays the
 * coordinator (it may answer, or hang so the parent can SIGKILL us mid-call).
 *
 *   node --import tsx signal-outbox-crash-child.ts <db file> <url> <reports.json>
 */
import { readFileSync } from 'node:fs';
import { openDatabase } from '../../store/db.ts';
import type { SignalReportInput } from '../contracts.ts';
import { SignalOutbox } from './signal-outbox.ts';
import { SqlOutboxJournal } from './signal-outbox-store.ts';

const [dbFile, url, reportsFile] = process.argv.slice(2);
if (!dbFile || !url || !reportsFile) throw new Error('usage: signal-outbox-crash-child <db> <url> <reports>');

const store = await openDatabase(`sqlite:${dbFile}`);
const journal = await SqlOutboxJournal.open(store);
const outbox = new SignalOutbox({
  journal,
  traceparentFor: () => '00-0af7651916cd43dd8448eb211c80319c-00f067aa0ba902b7-01',
  retryInitialMs: 20,
  maxInFlight: 1, // one at a time, so the parent knows exactly what was on the wire when it kills us
  send: async (message) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(message) });
    if (!res.ok) throw new Error(`coordinator answered ${res.status}`);
  },
});
const reports = JSON.parse(readFileSync(reportsFile, 'utf8')) as SignalReportInput[];
await Promise.all(reports.map((r) => outbox.push(r)));
process.stdout.write(`persisted ${reports.length}\n`);
setInterval(() => undefined, 1000); // stay alive until killed
