/**
 * One decision in its own process, for the cross-process race test:
 *   node --import tsx decide-child.ts <database url> <proposal id> <by>
 * Waits for "go" on stdin (so both racers start together), approves, and
 * prints `ok` or the error code.
 */
import { isFalconerError } from '../../../errors.ts';
import { openDatabase } from '../../../store/db.ts';
import { SqlRuleProposalStore } from '../sql-store.ts';

const [url, id, by] = process.argv.slice(2);
if (!url || !id || !by) throw new Error('usage: decide-child <url> <proposal id> <by>');
const store = await openDatabase(url);
const proposals = new SqlRuleProposalStore(store);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
try {
  await proposals.decide(id, { status: 'approved', by, at: new Date().toISOString() });
  process.stdout.write('ok\n');
} catch (err) {
  process.stdout.write(`${isFalconerError(err) ? err.code : String(err)}\n`);
} finally {
  await store.close();
}
