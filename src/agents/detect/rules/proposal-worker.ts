/**
 * Runs `rules.propose` on a worker thread. A proposal backtests candidate
 * rules over up to 50,000 stored events (1–2 s of CPU): on detect's event
 * loop that stalled ingest and gating for as long (the platform benchmark's
 * replay rate fell by a third while incidents were proposed). Here the event
 * loop only looks up the incident's events and sends the worker the stored
 * events it does not have yet, in small chunks between which ingest runs;
 * the worker keeps them as the next proposal's baseline. After `idleMs`
 * without a proposal the worker is stopped, which frees that copy.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { FalconerError } from '../../../errors.ts';
import type { EventStore } from '../../../store/event-store.ts';
import type { Logger } from '../../../telemetry/logger.ts';
import type { RulesProposeInput, RulesProposeOutput } from '../../contracts.ts';
import { DEFAULT_MAX_BASELINE_EVENTS, incidentEventsOf, NO_INCIDENT_EVENTS } from './propose.ts';
import type { FromProposalThread, ProposalThreadData, ToProposalThread } from './proposal-protocol.ts';
import './errors.ts';

export interface ProposalWorkerOptions {
  /** Newest stored events a rule is backtested against (default 50,000). */
  readonly maxBaselineEvents?: number;
  /** ...and at most this many estimated bytes of them (default 128 MiB): bounds the worker's copy. */
  readonly maxBaselineBytes?: number;
  /** Stored events per message to the worker (default 250: a few ms of copying each, then ingest runs). */
  readonly chunkEvents?: number;
  /** The worker stops after this long without a proposal (default 120 s). */
  readonly idleMs?: number;
  /** Heap cap of the worker thread in MiB (default 384). */
  readonly maxHeapMiB?: number;
  /**
   * Share of a core the proposals may use on average (default 0.25, config rules.proposalCpuShare): after a proposal that took
   * t ms the next starts t × (1 / share − 1) ms later. Proposals wait for a human anyway; the
   * gate, the coordinator and the notifications on the same node must not.
   */
  readonly maxCpuShare?: number;
  readonly logger?: Logger;
}

const BOOT = new URL('./proposal-worker-boot.mjs', import.meta.url);

interface Running {
  readonly worker: Worker;
  /** Highest store sequence number the worker has. */
  lastSeq: number;
  /** Stopped on purpose (idle, close): its exit is not an error. */
  stopping: boolean;
  readonly waiting: Map<number, { resolve: (o: RulesProposeOutput) => void; reject: (e: Error) => void }>;
}

export class ProposalWorker {
  private readonly maxBaselineEvents: number;
  private readonly maxBaselineBytes: number;
  private readonly chunkEvents: number;
  private readonly idleMs: number;
  private readonly maxHeapMiB: number;
  private readonly maxCpuShare: number;
  private running: Running | undefined;
  private nextId = 1;
  private sent = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Earliest start of the next proposal (the CPU share). */
  private nextStartAt = 0;
  /** Proposals queued or running, by incident: a retried request joins the one under way. */
  private readonly pending = new Map<string, Promise<RulesProposeOutput>>();

  constructor(
    private readonly store: Pick<EventStore, 'get' | 'newestSince' | 'oldestSeq'>,
    private readonly opts: ProposalWorkerOptions = {},
  ) {
    this.maxBaselineEvents = opts.maxBaselineEvents ?? DEFAULT_MAX_BASELINE_EVENTS;
    this.maxBaselineBytes = opts.maxBaselineBytes ?? 128 * 1024 * 1024;
    this.chunkEvents = opts.chunkEvents ?? 250;
    this.idleMs = opts.idleMs ?? 120_000;
    this.maxHeapMiB = opts.maxHeapMiB ?? 384;
    const share = opts.maxCpuShare ?? 0.25;
    if (!(share > 0 && share <= 1)) {
      throw new FalconerError('CONFIG_INVALID', 'maxCpuShare must be in (0, 1]', { maxCpuShare: share });
    }
    this.maxCpuShare = share;
  }

  /** Whether a worker thread is running now (it starts with a proposal and stops when idle). */
  get active(): boolean {
    return this.running !== undefined;
  }

  /** How long the next proposal would wait for its share of the CPU, in ms. */
  get restingMs(): number {
    return Math.max(0, this.nextStartAt - Date.now());
  }

  /** Stored events copied to worker threads so far (each event once per worker while it runs). */
  get eventsSent(): number {
    return this.sent;
  }

  /** One proposal at a time: several true positives at once queue rather than compete for the core. */
  propose(input: RulesProposeInput): Promise<RulesProposeOutput> {
    const key = JSON.stringify([input.incidentId, input.candidate ?? null, input.eventIds]);
    const under = this.pending.get(key);
    if (under !== undefined) return under;
    const run = this.queue.then(() => this.proposeNow(input));
    this.queue = run.catch(() => undefined);
    this.pending.set(key, run);
    const forget = () => this.pending.delete(key);
    run.then(forget, forget);
    return run;
  }

  private async proposeNow(input: RulesProposeInput): Promise<RulesProposeOutput> {
    if (this.closed) throw new FalconerError('DETECT_PROPOSAL_FAILED', 'detect is shutting down', {});
    const incident = incidentEventsOf(this.store, input.eventIds);
    if (incident.length === 0) return NO_INCIDENT_EVENTS;
    clearTimeout(this.idleTimer);
    const wait = this.nextStartAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (this.closed) throw new FalconerError('DETECT_PROPOSAL_FAILED', 'detect is shutting down', {});
    const r = this.running ?? this.start();
    // Referenced while it works for an answer; an idle worker alone must not keep the process alive.
    r.worker.ref();
    try {
      // Only what the worker lacks, newest first bounded like its baseline, in chunks with ingest in between.
      const { events, seqs, sizes } = this.store.newestSince(
        r.lastSeq,
        this.maxBaselineEvents,
        this.maxBaselineBytes,
      );
      for (let i = 0; i < events.length; i += this.chunkEvents) {
        const end = Math.min(events.length, i + this.chunkEvents);
        this.post(r, {
          type: 'events',
          events: events.slice(i, end),
          seqs: seqs.slice(i, end),
          sizes: sizes.slice(i, end),
        });
        r.lastSeq = seqs[end - 1] ?? r.lastSeq;
        this.sent += end - i;
        if (end < events.length) await yieldToEventLoop();
        if (this.running !== r) throw workerGone();
      }
      const id = this.nextId++;
      const answer = new Promise<RulesProposeOutput>((resolve, reject) =>
        r.waiting.set(id, { resolve, reject }),
      );
      // The oldest sequence is read now: events evicted while the chunks went out leave the baseline too.
      const started = performance.now();
      this.post(r, { type: 'propose', id, input, incident, oldestSeq: this.store.oldestSeq });
      try {
        return await answer;
      } finally {
        const took = performance.now() - started;
        this.nextStartAt = Date.now() + took * (1 / this.maxCpuShare - 1);
      }
    } finally {
      r.worker.unref();
      this.armIdleTimer();
    }
  }

  private post(r: Running, m: ToProposalThread): void {
    r.worker.postMessage(m);
  }

  private start(): Running {
    const data: ProposalThreadData = {
      maxBaselineEvents: this.maxBaselineEvents,
      maxBaselineBytes: this.maxBaselineBytes,
    };
    const worker = new Worker(BOOT, {
      workerData: data,
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMiB },
      stdout: false,
      stderr: false,
    });
    const r: Running = { worker, lastSeq: -1, stopping: false, waiting: new Map() };
    this.running = r;
    worker.on('message', (m: FromProposalThread) => {
      const w = r.waiting.get(m.id);
      if (w === undefined) return;
      r.waiting.delete(m.id);
      if (m.type === 'proposed') w.resolve(m.output);
      else {
        this.opts.logger?.error({ code: m.code, err: m.message }, 'rule proposal failed in the worker');
        w.reject(
          new FalconerError('DETECT_PROPOSAL_FAILED', 'the rule proposal failed in detect', { code: m.code }),
        );
      }
    });
    const gone = (why: string) => {
      if (this.running === r) this.running = undefined;
      for (const w of r.waiting.values()) w.reject(workerGone());
      r.waiting.clear();
      if (why !== 'idle') this.opts.logger?.error({ why }, 'rule proposal worker stopped');
    };
    worker.on('error', (err) => gone(err.message));
    worker.on('exit', (code) => gone(code === 0 || r.stopping ? 'idle' : `exit code ${code}`));
    return r;
  }

  private armIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stopWorker(), this.idleMs);
    this.idleTimer.unref();
  }

  private async stopWorker(): Promise<void> {
    const r = this.running;
    if (r === undefined) return;
    this.running = undefined;
    r.stopping = true;
    await r.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.idleTimer);
    await this.stopWorker();
  }
}

function workerGone(): FalconerError {
  return new FalconerError('DETECT_PROPOSAL_FAILED', 'the rule proposal worker stopped before answering', {});
}
