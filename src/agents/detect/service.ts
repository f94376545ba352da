/**
 * The detect agent's core: HTTP ingest → event bus → gate → signals.
 * Ingest only validates and publishes; the gate consumes from the bus, so a
 * slow gate pushes back on the ingest (503 + Retry-After) instead of losing
 * events. Signals are handed to `onSignal` (the A2A link to the coordinator
 * plugs in there) and appended to a local NDJSON log.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { createBus } from '../../bus/registry.ts';
import type { BusRecord, EventBus } from '../../bus/types.ts';
import type { FalconerConfig } from '../../config/schema.ts';
import { describeError } from '../../errors.ts';
import type { NormalizedEvent } from '../../events/types.ts';
import { Gate, type GateDecision, type GateStats } from '../../gate/gate.ts';
import { createGateMetrics } from '../../gate/metrics.ts';
import type { SignalUpdate } from '../../gate/signals.ts';
import { createIngestServer, type IngestServer } from '../../ingest/server.ts';
import type { IngestSinkResult } from '../../ingest/types.ts';
import type { Logger } from '../../telemetry/logger.ts';

export const EVENTS_TOPIC = 'falco.events';

export interface DetectServiceOptions {
  readonly config: FalconerConfig;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly onSignal?: (update: SignalUpdate) => void;
  /** Sees every decision (the demo uses it to follow labelled attacks). */
  readonly onDecision?: (event: NormalizedEvent, decision: GateDecision) => void;
  /** Keep the model on disk under dataDir (default true). */
  readonly persistModel?: boolean;
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

  const onSignal = (update: SignalUpdate): void => {
    signalUpdates += 1;
    const { signal } = update;
    logger.info(
      { signalId: signal.id, workload: signal.workload.key, kind: update.kind, count: signal.count },
      'signal',
    );
    signalWrites = signalWrites
      .then(() => appendFile(signalLog, `${JSON.stringify({ kind: update.kind, ...signal })}\n`))
      .catch((err: unknown) => logger.error({ err: describeError(err) }, 'cannot append to the signal log'));
    opts.onSignal?.(update);
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

  const bus = createBus<NormalizedEvent>(config.bus.kind, {
    embedded: {
      capacity: config.bus.capacity,
      onHandlerError: (err) =>
        logger.error({ err: describeError(err) }, 'gate failed on a batch; retrying it'),
    },
  });
  const subscription = bus.subscribe(
    EVENTS_TOPIC,
    'detect',
    (records: readonly BusRecord<NormalizedEvent>[]) => {
      // One batch call: the gate scores the batch with its batch kernel, with the same decisions as per event.
      const events = records.map((record) => record.value);
      const decisions = gate.processBatch(events);
      if (opts.onDecision !== undefined)
        for (let i = 0; i < events.length; i++) opts.onDecision(events[i]!, decisions[i]!);
      saveModelIfNew();
    },
  );

  const sink = (events: NormalizedEvent[]): IngestSinkResult => {
    const result = bus.publish(
      EVENTS_TOPIC,
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
      return { gate: gate.stats, busDepth: busStats.depth, busRefused: busStats.refused, signalUpdates };
    },
    drain: async () => {
      await bus.drain();
      await signalWrites;
    },
    close: async () => {
      await ingest.close();
      await bus.drain();
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
