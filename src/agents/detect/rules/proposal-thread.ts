/**
 * The rule-proposal worker thread: keeps a copy of detect's newest stored
 * events (the backtest baseline, sent in chunks as they are needed) and runs
 * proposals on it, so that a 1–2 s synthesis never stalls ingest and gating.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describeError, isFalconerError } from '../../../errors.ts';
import type { EventWire } from '../../contracts.ts';
import { proposeFrom } from './propose.ts';
import type { FromProposalThread, ProposalThreadData, ToProposalThread } from './proposal-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('proposal-thread.ts runs only as a worker thread');
const { maxBaselineEvents, maxBaselineBytes } = workerData as ProposalThreadData;

// The baseline, oldest first: from index `head` on (dropped entries are compacted away lazily).
let events: EventWire[] = [];
let seqs: number[] = [];
let sizes: number[] = [];
let head = 0;
let bytes = 0;

function dropHead(): void {
  bytes -= sizes[head] ?? 0;
  head++;
}

function trim(oldestSeq: number): void {
  while (head < events.length && ((seqs[head] ?? 0) < oldestSeq || events.length - head > maxBaselineEvents))
    dropHead();
  while (head < events.length && bytes > maxBaselineBytes) dropHead();
  if (head > 4096 && head * 2 > events.length) {
    events = events.slice(head);
    seqs = seqs.slice(head);
    sizes = sizes.slice(head);
    head = 0;
  }
}

function* baseline(): Generator<EventWire> {
  for (let i = head; i < events.length; i++) yield events[i] as EventWire;
}

const reply = (m: FromProposalThread): void => port.postMessage(m);

port.on('message', (m: ToProposalThread) => {
  if (m.type === 'events') {
    for (let i = 0; i < m.events.length; i++) {
      events.push(m.events[i] as EventWire);
      seqs.push(m.seqs[i] ?? 0);
      sizes.push(m.sizes[i] ?? 0);
      bytes += m.sizes[i] ?? 0;
    }
    trim(-1);
    return;
  }
  trim(m.oldestSeq);
  try {
    const output = proposeFrom(m.incident, baseline, m.input);
    reply({ type: 'proposed', id: m.id, output, baselineEvents: events.length - head });
  } catch (err) {
    reply({
      type: 'failed',
      id: m.id,
      code: isFalconerError(err) ? err.code : 'INTERNAL',
      message: describeError(err),
    });
  }
});
