/**
 * The platform bench's load: pre-encoded NDJSON bodies posted to the ingest at a
 * steady rate, a few requests in flight, as Falco nodes would post them. It does
 * no per-event work (no parse, no validation): Falco runs on other machines, so
 * the load generator should take as little as possible of the CPU the agents
 * share. `falconer replay` validates every line first, which here cost a third
 * of a core at 5,000 events/s.
 */
import { Agent, request } from 'node:http';

export interface Body {
  readonly bytes: Buffer;
  /** 1-based line number of the body's first line in the scenario file. */
  readonly firstLine: number;
  readonly lines: number;
}

export interface PacedSendOptions {
  readonly url: string;
  readonly bodies: readonly Body[];
  /** Events per second of wall time. */
  readonly rate: number;
  /** Requests in flight at most. */
  readonly concurrency: number;
  /** Called as a body's request starts. */
  readonly onSend?: (body: Body, startedMs: number) => void;
  readonly onProgress?: (accepted: number, seconds: number) => void;
}

export interface PacedSendSummary {
  events: number;
  accepted: number;
  rejected: number;
  seconds: number;
  eventsPerSecond: number;
  /** Re-sends after 429 / 503 (the ingest's backpressure). */
  retries: number;
  /** Wall time of every request, answer − start, in ms. */
  requestMs: number[];
  /** Final answers by HTTP status. */
  answers: Record<string, number>;
}

interface Answer {
  status: number;
  accepted: number;
  rejected: number;
  retryAfterS: number;
}

function post(agent: Agent, url: URL, bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-ndjson', 'content-length': bytes.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: { accepted?: unknown; rejected?: unknown } = {};
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
          } catch {
            // A non-JSON answer counts as nothing accepted.
          }
          resolve({
            status: res.statusCode ?? 0,
            accepted: typeof body.accepted === 'number' ? body.accepted : 0,
            rejected: typeof body.rejected === 'number' ? body.rejected : 0,
            retryAfterS: Number(res.headers['retry-after'] ?? 1) || 1,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function pacedSend(opts: PacedSendOptions): Promise<PacedSendSummary> {
  const url = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const s: PacedSendSummary = {
    events: 0,
    accepted: 0,
    rejected: 0,
    seconds: 0,
    eventsPerSecond: 0,
    retries: 0,
    requestMs: [],
    answers: {},
  };
  const t0 = performance.now();
  let next = 0;
  let due = 0; // events whose send time has come, cumulatively
  let lastProgress = t0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const body = opts.bodies[i];
      if (body === undefined) return;
      // Body i may start once the events before it have had their share of wall time.
      const startAt = t0 + (due / opts.rate) * 1000;
      due += body.lines;
      const wait = startAt - performance.now();
      if (wait > 1) await sleep(wait);
      opts.onSend?.(body, Date.now());
      const started = performance.now();
      let answer = await post(agent, url, body.bytes);
      while (answer.status === 429 || answer.status === 503) {
        s.retries++;
        await sleep(answer.retryAfterS * 1000);
        answer = await post(agent, url, body.bytes);
      }
      s.requestMs.push(Math.round(performance.now() - started));
      s.answers[answer.status] = (s.answers[answer.status] ?? 0) + 1;
      s.events += body.lines;
      s.accepted += answer.accepted;
      s.rejected += body.lines - answer.accepted;
      const now = performance.now();
      if (now - lastProgress >= 10_000) {
        lastProgress = now;
        opts.onProgress?.(s.accepted, (now - t0) / 1000);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  s.seconds = (performance.now() - t0) / 1000;
  s.eventsPerSecond = Math.round(s.events / Math.max(s.seconds, 1e-9));
  return s;
}
