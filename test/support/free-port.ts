/** Free loopback ports for the servers tests and benchmarks start (agents, OPA, PostgreSQL). */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Below Linux's ephemeral range (32768–60999): a port taken from it can be handed to an outgoing
 * connection (an agent calling another, a readiness probe) in the seconds before its agent listens,
 * and that agent then fails with EADDRINUSE.
 */
const PORT_RANGE = { from: 20_000, to: 32_767 } as const;
/**
 * Test files run in parallel processes, and a port is only listened on seconds after it is picked:
 * each pick is claimed with a file created exclusively, so two processes never pick the same port.
 * A claim whose process is gone is taken over.
 */
const CLAIMS = join(tmpdir(), 'falconer-test-ports');
const claimed: string[] = [];

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function claim(port: number): boolean {
  mkdirSync(CLAIMS, { recursive: true });
  const file = join(CLAIMS, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      if (claimed.length === 0) process.once('exit', release);
      claimed.push(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
      rmSync(file, { force: true });
    }
  }
  return false;
}

function release(): void {
  for (const file of claimed) rmSync(file, { force: true });
}

/** A loopback port outside the ephemeral range, free now, claimed by no other live process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from + 1));
    if (!(await canListen(port)) || !claim(port)) continue;
    return port;
  }
  throw new Error(`no free loopback port in ${PORT_RANGE.from}–${PORT_RANGE.to} after 200 attempts`);
}
