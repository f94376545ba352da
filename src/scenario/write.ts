/**
 * Streams a scenario to writable streams (files, stdout) with backpressure:
 * lines are batched into chunks and the generator is only pulled while the
 * destination keeps up, so memory stays flat for any length.
 */
import type { Writable } from 'node:stream';
import { alertLine, labelLine } from './serialize.ts';
import type { AttackKind, ScenarioEvent } from './types.ts';
import { ATTACK_KINDS } from './types.ts';

/** Characters per write: large enough to amortize the stream machinery, small enough to stay flat. */
const CHUNK_CHARS = 1 << 18;

export interface ScenarioWriteSummary {
  events: number;
  attackEvents: number;
  /** Alerts per attack kind. */
  attackEventsByKind: Record<AttackKind, number>;
  /** Wall-clock milliseconds spent generating and writing. */
  elapsedMs: number;
}

class ChunkedWriter {
  private buffer = '';

  constructor(private readonly stream: Writable) {}

  /** Adds a line; true when a chunk is full and should be flushed (awaiting only then keeps the loop synchronous). */
  add(text: string): boolean {
    this.buffer += `${text}\n`;
    return this.buffer.length >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.stream.write(chunk)) await drained(this.stream);
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', onError);
    };
    const onDrain = (): void => {
      done();
      resolve();
    };
    // 'close' without 'drain' means the reader went away (a closed pipe).
    const onClose = (): void => {
      done();
      reject(closedEarly());
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', onError);
  });
}

function closedEarly(): Error {
  return Object.assign(new Error('output stream closed before the scenario was written'), { code: 'EPIPE' });
}

export async function writeScenario(
  events: Iterable<ScenarioEvent>,
  alerts: Writable,
  labels: Writable | undefined,
): Promise<ScenarioWriteSummary> {
  const started = performance.now();
  const alertOut = new ChunkedWriter(alerts);
  const labelOut = labels === undefined ? undefined : new ChunkedWriter(labels);
  const byKind = Object.fromEntries(ATTACK_KINDS.map((k) => [k, 0])) as Record<AttackKind, number>;
  let count = 0;
  let attackEvents = 0;
  for (const { alert, label } of events) {
    count++;
    if (label.kind !== null) {
      attackEvents++;
      byKind[label.kind]++;
    }
    if (alertOut.add(alertLine(alert))) await alertOut.flush();
    if (labelOut !== undefined && labelOut.add(labelLine(label))) await labelOut.flush();
  }
  await alertOut.flush();
  if (labelOut !== undefined) await labelOut.flush();
  return { events: count, attackEvents, attackEventsByKind: byKind, elapsedMs: performance.now() - started };
}
