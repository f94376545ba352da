/** A `falconer up` stand-in: supervises one stop-signal child, then waits to be killed. */
import { Supervisor } from '../../src/supervisor/supervisor.ts';

const sup = new Supervisor({ logDir: process.env.LOG_DIR as string });
sup.start({
  name: 'child',
  command: process.execPath,
  args: ['--import', 'tsx', new URL('./stop-signal-child.ts', import.meta.url).pathname],
  env: {},
});
setInterval(() => undefined, 60_000);
