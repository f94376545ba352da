/**
 * Fans each notification out to every configured sink, so that one bad
 * endpoint never holds up the others or other incidents:
 *
 *  - per-attempt timeout: a hanging endpoint is aborted (AbortSignal);
 *  - retries with jittered exponential backoff on network errors, timeouts,
 *    429 and 5xx; a Retry-After header is honoured (capped);
 *  - a bounded queue and a fixed number of notifications in flight: when the
 *    queue is full, notify() fails fast with NOTIFY_QUEUE_FULL;
 *  - dedupe by `dedupeKey`: a key is recorded once at least one sink has it
 *    (a notification no sink took can be retried by the caller); the same key
 *    arriving while in flight waits for the first and is reported duplicate;
 *  - metrics: falconer_notifications_total{sink,outcome},
 *    falconer_notification_attempts_total{sink,outcome}, and latency.
 */
import type { Registry } from 'prom-client';
import type { NotificationKind, NotifyInput, NotifyOutput } from '../contracts.ts';
import { describeError, FalconerError } from '../../errors.ts';
import { MemoryDedupeStore, type DedupeStore } from './dedupe.ts';
import { oneLine } from './escape.ts';
import { createNotifyMetrics, type NotifyMetrics } from './metrics.ts';
import { SinkError, type Notifier } from './types.ts';

export interface SinkSpec {
  readonly notifier: Notifier;
  readonly timeoutMs: number;
  readonly retries: number;
  /** The notification kinds it receives; all when absent. */
  readonly kinds?: ReadonlySet<NotificationKind>;
}

export interface DispatcherOptions {
  readonly sinks: readonly SinkSpec[];
  readonly registry: Registry;
  readonly dedupe?: DedupeStore;
  readonly concurrency?: number;
  readonly queueLimit?: number;
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxRetryAfterMs?: number;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
}

type Delivery = NotifyOutput['deliveries'][number];

interface Job {
  readonly input: NotifyInput;
  readonly resolve: (out: NotifyOutput) => void;
  readonly reject: (err: unknown) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Dispatcher {
  readonly #sinks: readonly SinkSpec[];
  readonly #dedupe: DedupeStore;
  readonly #metrics: NotifyMetrics;
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #random: () => number;
  readonly #queue: Job[] = [];
  readonly #inFlight = new Map<string, Promise<NotifyOutput>>();
  readonly #closing = new AbortController();
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(opts: DispatcherOptions) {
    const names = new Set<string>();
    for (const s of opts.sinks) {
      if (names.has(s.notifier.name)) {
        throw new FalconerError('NOTIFY_CONFIG', `duplicate notification sink name "${s.notifier.name}"`, {
          sink: s.notifier.name,
        });
      }
      names.add(s.notifier.name);
    }
    this.#sinks = opts.sinks;
    this.#dedupe = opts.dedupe ?? new MemoryDedupeStore();
    this.#metrics = createNotifyMetrics(opts.registry);
    this.#concurrency = opts.concurrency ?? 4;
    this.#queueLimit = opts.queueLimit ?? 1000;
    this.#backoffMs = opts.backoffMs ?? 250;
    this.#maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.#maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    this.#random = opts.random ?? Math.random;
  }

  /** Delivers to every sink (or reports the duplicate); resolves with one delivery per sink. */
  async notify(input: NotifyInput): Promise<NotifyOutput> {
    if (this.#closing.signal.aborted)
      throw new FalconerError('NOTIFY_CLOSED', 'the notifier is shutting down', {});
    const key = input.dedupeKey;
    const running = this.#inFlight.get(key);
    if (running !== undefined) {
      // Registered synchronously below, so two calls in the same tick cannot both send.
      const first = await running;
      this.#metrics.notifications.inc({ sink: '-', outcome: 'duplicate' });
      return first.duplicate ? first : { deliveries: first.deliveries, duplicate: true };
    }
    const promise = this.#admit(input);
    this.#inFlight.set(key, promise);
    const cleanup = (): void => {
      this.#inFlight.delete(key);
    };
    promise.then(cleanup, cleanup);
    return promise;
  }

  async #admit(input: NotifyInput): Promise<NotifyOutput> {
    if (await this.#dedupe.has(input.dedupeKey)) {
      this.#metrics.notifications.inc({ sink: '-', outcome: 'duplicate' });
      return { deliveries: [], duplicate: true };
    }
    if (this.#queue.length >= this.#queueLimit) {
      throw new FalconerError(
        'NOTIFY_QUEUE_FULL',
        `notification queue full (${this.#queueLimit} waiting); try again later`,
        {
          queueLimit: this.#queueLimit,
        },
      );
    }
    const promise = new Promise<NotifyOutput>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
    });
    this.#pump();
    return promise;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get active(): number {
    return this.#active;
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift() as Job;
      this.#active++;
      this.#run(job.input)
        .then(job.resolve, job.reject)
        .finally(() => {
          this.#active--;
          this.#pump();
          if (this.#active === 0 && this.#queue.length === 0) for (const f of this.#idle.splice(0)) f();
        });
    }
  }

  async #run(input: NotifyInput): Promise<NotifyOutput> {
    const sinks = this.#sinks.filter((s) => s.kinds === undefined || s.kinds.has(input.kind));
    const deliveries = await Promise.all(sinks.map((s) => this.#deliver(s, input)));
    if (deliveries.some((d) => d.ok)) await this.#dedupe.add(input.dedupeKey);
    return { deliveries, duplicate: false };
  }

  async #deliver(spec: SinkSpec, input: NotifyInput): Promise<Delivery> {
    const sink = spec.notifier.name;
    const started = performance.now();
    let attempts = 0;
    let lastError: unknown;
    let lastTimedOut: boolean | undefined;
    for (;;) {
      attempts++;
      const timeout = AbortSignal.timeout(spec.timeoutMs);
      const signal = AbortSignal.any([timeout, this.#closing.signal]);
      let retryAfterMs: number | undefined;
      try {
        await spec.notifier.send(input, signal);
        this.#metrics.attempts.inc({ sink, outcome: 'ok' });
        return this.#finish(sink, started, { sink, ok: true, attempts });
      } catch (err) {
        lastError = err;
        const timedOut = timeout.aborted;
        lastTimedOut = timedOut;
        const retryable = timedOut || (err instanceof SinkError ? err.retryable : false);
        this.#metrics.attempts.inc({
          sink,
          outcome: timedOut ? 'timeout' : retryable ? 'retryable' : 'failed',
        });
        if (!retryable || attempts > spec.retries || this.#closing.signal.aborted) break;
        if (err instanceof SinkError) retryAfterMs = err.retryAfterMs;
      }
      await sleep(this.#delay(attempts, retryAfterMs), this.#closing.signal);
    }
    const error = oneLine(
      lastTimedOut ? `timed out after ${spec.timeoutMs} ms` : describeError(lastError),
      500,
    );
    return this.#finish(sink, started, { sink, ok: false, attempts, error });
  }

  #finish(sink: string, started: number, d: Delivery): Delivery {
    const outcome = d.ok ? 'delivered' : 'failed';
    this.#metrics.notifications.inc({ sink, outcome });
    this.#metrics.latency.observe({ sink, outcome }, (performance.now() - started) / 1000);
    return d;
  }

  /** Exponential backoff with jitter (half to full), or the endpoint's Retry-After when longer. */
  #delay(attempt: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (attempt - 1));
    const jittered = exp * (0.5 + this.#random() / 2);
    if (retryAfterMs === undefined) return jittered;
    return Math.max(jittered, Math.min(retryAfterMs, this.#maxRetryAfterMs));
  }

  /** Resolves when nothing is queued or in flight. */
  drain(): Promise<void> {
    if (this.#active === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops: queued notifications are refused, attempts in flight aborted (reported failed). */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const job of this.#queue.splice(0)) {
      job.reject(
        new FalconerError('NOTIFY_CLOSED', 'the notifier shut down before this notification was sent', {}),
      );
    }
    await this.drain();
  }
}
