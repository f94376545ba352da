/** Free loopback ports for the servers tests and benchmarks start (agents, OPA, PostgreSQL). */
import { createServer } from 'node:net';

/**
 * Below Linux's ephemeral range (32768–60999): a port taken from it can be handed to an outgoing
 * connection (an agent calling another, a readiness probe) in the seconds before its agent listens,
 * and that agent then fails with EADDRINUSE.
 */
const PORT_RANGE = { from: 20_000, to: 32_767 } as const;
const handedOut = new Set<number>();

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port outside the ephemeral range, free now and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from + 1));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free loopback port in ${PORT_RANGE.from}–${PORT_RANGE.to} after 200 attempts`);
}
