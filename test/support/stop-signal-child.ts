/**
 * A long-running child as agents are: waits in runUntilStopped, writes why it stopped to
 * $STOP_FILE. With HANG_ON_STOP=1 its stop never finishes (the deadline must end it).
 */
import { appendFileSync } from 'node:fs';
import { runUntilStopped } from '../../src/supervisor/stop-signal.ts';

const file = process.env.STOP_FILE as string;
appendFileSync(file, `started ${process.pid}\n`);
const keepAlive = setInterval(() => undefined, 60_000);
await runUntilStopped(
  async () => {
    if (process.env.HANG_ON_STOP === '1') await new Promise(() => undefined);
    clearInterval(keepAlive);
  },
  {
    onStopping: (reason) => appendFileSync(file, `stopping: ${reason}\n`),
    parentCheckMs: 100,
    deadlineMs: 1500,
  },
);
appendFileSync(file, 'stopped\n');
