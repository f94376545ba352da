/**
 * The detect agent's core: HTTP ingest → event bus → gate → signals.
 * Ingest only validates and publishes; the gate consumes from the bus, so a
 * slow gate pushes back on the ingest (503 + Retry-After) instead of losing
 * events. Signals are handed to `onSignal` (the A2A link to the coordinator
 * plugs in there) and appended to a local NDJSON log.
 *
 * With `bus.kind: kafka` the bus is a consumer group on Falco's topic: the
 * consumer parses, validates and normalizes the raw alerts (bad ones go to the
 * dead-letter topic), replicas share the partitions, and a batch's offsets are
 * committed only after `onBatchScored` (storage) resolved. Redelivered events
 * (at-least-once) are recognised by event id within a window and not scored twice.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { falcoEventCodec } from '../../bus/kafka-codec.ts';
import {
  KafkaBusConfigSchema,
  type KafkaBusConfig,
  type KafkaBusConfigInput,
} from '../../bus/kafka-config.ts';
import type { KafkaBus } from '../../bus/kafka.ts';
import { createBus } from '../../bus/registry.ts';
import type { BusRecord, EventBus } from '../../bus/types.ts';
import type { FalconerConfig } from '../../config/schema.ts';
import { FalconerError, describeError } from '../../errors.ts';
import type { NormalizedEvent } from '../../events/types.ts';
import { Gate, type GateDecision, type GateStats } from '../../gate/gate.ts';
import { createGateMetrics } from '../../gate/metrics.ts';
import type { SignalUpdate } from '../../gate/signals.ts';
import { createIngestServer, type IngestServer } from '../../ingest/server.ts';
import type { IngestSinkResult } from '../../ingest/types.ts';
import type { Logger } from '../../telemetry/logger.ts';

export const EVENTS_TOPIC = 'falco.events';

/** Events gated between two turns of the event loop (see the bus handler). */
const SCORE_SLICE = 128;

/** Lets pending I/O (ingest requests, A2A answers, timers) run before the next piece of CPU work. */
const turnOfEventLoop = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

export interface DetectServiceOptions {
  readonly config: FalconerConfig;
  readonly registry: Registry;
  readonly logger: Logger;
  /**
   * Gets every signal update; a returned promise (the durable outbox write) is
   * awaited before the batch that raised the signal counts as delivered.
   */
  readonly onSignal?: (update: SignalUpdate) => void | Promise<void>;
  /**
   * Sees every decision, after the whole batch was gated and before its signals are reported.
   * May return a signal update to report for an event the gate did not forward (an approved rule matched it).
   */
  readonly onDecision?: (event: NormalizedEvent, decision: GateDecision) => SignalUpdate | void;
  /** Keep the model on disk under dataDir (default true). */
  readonly persistModel?: boolean;
  /**
   * Stores what a batch produced; awaited before the batch counts as delivered
   * (on Kafka: before its offsets are committed). Gets only events not seen before.
   */
  readonly onBatchScored?: (
    events: readonly NormalizedEvent[],
    decisions: readonly GateDecision[],
    records: readonly BusRecord<NormalizedEvent>[],
  ) => void | Promise<void>;
  /** The bus.kafka block (overrides config.bus.kafka), used when config.bus.kind is "kafka". */
  readonly kafka?: KafkaBusConfigInput;
  /** Event ids remembered to skip redeliveries (default 200,000; 0 turns it off). */
  readonly dedupeWindow?: number;
}

export interface DetectService {
  readonly ingestUrl: string;
  readonly address: AddressInfo;
  readonly gate: Gate;
  readonly ingest: IngestServer;
  readonly bus: EventBus<NormalizedEvent>;
  stats(): DetectStats;
  /** Resolves once every accepted event has been through the gate. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export interface DetectStats {
  readonly gate: GateStats;
  readonly busDepth: number;
  readonly busRefused: number;
  readonly signalUpdates: number;
  /** Redelivered events recognised by id and not scored again. */
  readonly duplicatesSkipped: number;
}

/** The most recent event ids, oldest forgotten first (a ring over a Set). */
class RecentIds {
  private readonly set = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;
  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }
  has(id: string): boolean {
    return this.set.has(id);
  }
  add(id: string): void {
    if (this.capacity === 0 || this.set.has(id)) return;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.set.add(id);
    this.next = (this.next + 1) % this.capacity;
  }
}

/** bus.kafka from the options or the config (the config schema may or may not carry it yet). */
export function kafkaConfigOf(
  opts: Pick<DetectServiceOptions, 'config' | 'kafka'>,
): KafkaBusConfig | undefined {
  if (opts.config.bus.kind !== 'kafka') return undefined;
  const raw = opts.kafka ?? (opts.config.bus as { kafka?: unknown }).kafka;
  if (raw === undefined) {
    throw new FalconerError('CONFIG_INVALID', 'bus.kind is "kafka" but bus.kafka (brokers…) is not set', {
      kind: 'kafka',
    });
  }
  const parsed = KafkaBusConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FalconerError(
      'CONFIG_INVALID',
      `bus.kafka.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      { path: issue?.path.join('.') },
    );
  }
  return parsed.data;
}

export function gateOptionsFrom(config: FalconerConfig): ConstructorParameters<typeof Gate>[0] {
  const g = config.gate;
  return {
    forwardRate: g.forwardRate,
    ...(g.fixedThreshold !== null && { fixedThreshold: g.fixedThreshold }),
    warmupEvents: g.warmupEvents,
    retrainEveryEvents: g.retrainEveryEvents,
    retrainEveryMs: g.retrainEveryMs,
    forest: { trees: g.trees, sampleSize: g.sampleSize },
    seed: g.seed,
    signals: { windowMs: g.signalWindowMs },
    // A service must keep answering: a retrain is spread over the events that follow it instead of
    // stalling ingest for the whole of one (hundreds of ms on a busy machine).
    retrainMode: 'incremental',
  };
}

export async function startDetectService(opts: DetectServiceOptions): Promise<DetectService> {
  const { config, logger, registry } = opts;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const modelPath = join(dataDir, config.gate.modelFile);
  const signalLog = join(dataDir, 'signals.ndjson');
  let signalUpdates = 0;
  let signalWrites = Promise.resolve();

  const kafka = kafkaConfigOf(opts);
  const eventsTopic = kafka?.topics.events ?? EVENTS_TOPIC;
  let publishSignal: ((update: SignalUpdate) => void) | undefined;
  /** Outbox writes raised by the batch being scored, awaited before it counts as delivered. */
  let signalPersists: Promise<void>[] = [];

  /** Signals raised while a batch is gated wait here until onDecision has seen (stored) the batch. */
  let heldSignals: SignalUpdate[] | null = null;
  const onSignal = (update: SignalUpdate): void => {
    if (heldSignals !== null) {
      heldSignals.push(update);
      return;
    }
    signalUpdates += 1;
    publishSignal?.(update);
    const { signal } = update;
    // Updates come with every forwarded event of a signal: debug, so a busy signal does not flood the log.
    logger[update.kind === 'opened' ? 'info' : 'debug'](
      { signalId: signal.id, workload: signal.workload.key, kind: update.kind, count: signal.count },
      'signal',
    );
    signalWrites = signalWrites
      .then(() => appendFile(signalLog, `${JSON.stringify({ kind: update.kind, ...signal })}\n`))
      .catch((err: unknown) => logger.error({ err: describeError(err) }, 'cannot append to the signal log'));
    const persisted = opts.onSignal?.(update);
    if (persisted !== undefined) signalPersists.push(persisted);
  };

  const gate = new Gate({ ...gateOptionsFrom(config), metrics: createGateMetrics(registry), onSignal });
  if (opts.persistModel !== false && existsSync(modelPath)) {
    try {
      const model = await gate.loadModelFile(modelPath);
      logger.info({ modelVersion: model.modelVersion, modelPath }, 'gate model loaded');
    } catch (err) {
      // A bad model file must not stop detection: warm up and train a fresh one.
      logger.error({ err: describeError(err), modelPath }, 'gate model refused; warming up a new one');
    }
  }

  let savedTrainings = gate.stats.trainings;
  let saving = false;
  const saveModelIfNew = (): void => {
    const trainings = gate.stats.trainings;
    if (opts.persistModel === false || saving || trainings === savedTrainings) return;
    saving = true;
    savedTrainings = trainings;
    gate
      .saveModelFile(modelPath)
      .catch((err: unknown) =>
        logger.error({ err: describeError(err), modelPath }, 'cannot save the gate model'),
      )
      .finally(() => (saving = false));
  };

  const onHandlerError = (err: unknown): void =>
    logger.error({ err: describeError(err) }, 'gate failed on a batch; retrying it');
  const bus = await createBus<NormalizedEvent>(config.bus.kind, {
    embedded: { capacity: config.bus.capacity, onHandlerError },
    ...(kafka !== undefined && {
      kafka: {
        config: kafka,
        // The consumer parses, validates and normalizes Falco's JSON with the ingest's limits.
        codec: falcoEventCodec({
          cluster: config.cluster,
          limits: { maxEventBytes: Math.min(config.ingest.maxEventBytes, kafka.maxRecordBytes) },
        }),
        log: logger,
        onHandlerError,
      },
    }),
  });
  const signalsTopic = kafka?.topics.signals ?? null;
  if (signalsTopic !== null) {
    const kafkaBus = bus as unknown as KafkaBus<NormalizedEvent>;
    publishSignal = (update) => {
      const value = JSON.stringify({ kind: update.kind, ...update.signal });
      kafkaBus
        .sendRaw(signalsTopic, [{ key: update.signal.workload.key, value }])
        .catch((err: unknown) =>
          logger.error({ err: describeError(err) }, 'cannot publish a signal to Kafka'),
        );
    };
  }

  const seen = new RecentIds(opts.dedupeWindow ?? 200_000);
  let duplicatesSkipped = 0;
  const fresh = (records: readonly BusRecord<NormalizedEvent>[]): readonly BusRecord<NormalizedEvent>[] => {
    // Only a redelivering bus (Kafka) repeats records; the embedded bus never does.
    if (seen.capacity === 0 || records[0]?.origin === undefined) return records;
    const inBatch = new Set<string>();
    const out = records.filter((r) => {
      const id = r.value.id;
      if (seen.has(id) || inBatch.has(id)) return false;
      inBatch.add(id);
      return true;
    });
    duplicatesSkipped += records.length - out.length;
    return out;
  };

  const subscription = bus.subscribe(
    eventsTopic,
    kafka?.groupId ?? 'detect',
    async (all: readonly BusRecord<NormalizedEvent>[]) => {
      const records = fresh(all);
      if (records.length === 0) return;
      // Scored in slices with a turn of the event loop between them: a bus batch can be 512 events
      // (tens of ms of gating and storing on a busy machine), and ingest requests that arrive meanwhile
      // should wait for one slice, not the whole batch. The gate's decisions do not depend on how a
      // stream is cut into processBatch calls.
      const events = records.map((record) => record.value);
      const decisions: GateDecision[] = [];
      for (let start = 0; start < events.length; start += SCORE_SLICE) {
        if (start > 0) await turnOfEventLoop();
        const slice =
          start === 0 && events.length <= SCORE_SLICE ? events : events.slice(start, start + SCORE_SLICE);
        heldSignals = [];
        try {
          const sliceDecisions = gate.processBatch(slice);
          if (opts.onDecision !== undefined)
            for (let i = 0; i < slice.length; i++) {
              const ruleSignal = opts.onDecision(slice[i]!, sliceDecisions[i]!);
              if (ruleSignal) heldSignals.push(ruleSignal);
            }
          for (const d of sliceDecisions) decisions.push(d);
        } finally {
          const held = heldSignals;
          heldSignals = null;
          for (const update of held) onSignal(update);
        }
      }
      saveModelIfNew();
      if (signalPersists.length > 0) {
        const persists = signalPersists;
        signalPersists = [];
        await Promise.all(persists);
      }
      // Stored before the batch counts as delivered; remembered as seen only once stored.
      if (opts.onBatchScored !== undefined) await opts.onBatchScored(events, decisions, records);
      if (records[0]?.origin !== undefined) for (const e of events) seen.add(e.id);
      // The bus hands the next batch over at once while it has a backlog, and scoring never waits on
      // I/O: without a turn of the event loop here, signal reports (and new ingest requests) would
      // wait until the whole backlog is scored.
      await turnOfEventLoop();
    },
  );
  try {
    await bus.start?.();
  } catch (err) {
    await subscription.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    throw err;
  }

  const sink = (events: NormalizedEvent[]): IngestSinkResult => {
    const result = bus.publish(
      eventsTopic,
      events.map((value) => ({ key: value.workload.key, value })),
    );
    return result.accepted
      ? result
      : { accepted: false, retryAfterSeconds: Math.ceil(result.retryAfterMs / 1000) };
  };

  const ingest = createIngestServer({
    sink,
    limits: config.ingest,
    registry,
    cluster: config.cluster,
    logger,
  });
  const address = await ingest.listen(config.ingest.port, config.ingest.host);
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const ingestUrl = `http://${host}:${address.port}/events`;

  return {
    ingestUrl,
    address,
    gate,
    ingest,
    bus,
    stats: () => {
      const busStats = bus.stats();
      return {
        gate: gate.stats,
        busDepth: busStats.depth,
        busRefused: busStats.refused,
        signalUpdates,
        duplicatesSkipped,
      };
    },
    drain: async () => {
      await bus.drain();
      await signalWrites;
    },
    close: async () => {
      await ingest.close();
      // On Kafka, what this replica did not handle stays in the topic for the group; only the outbox is flushed (by close).
      if (kafka === undefined) await bus.drain();
      await subscription.close();
      await bus.close();
      await signalWrites;
      if (opts.persistModel !== false && gate.model) {
        await gate
          .saveModelFile(modelPath)
          .catch((err: unknown) => logger.error({ err: describeError(err) }, 'cannot save the gate model'));
      }
    },
  };
}
