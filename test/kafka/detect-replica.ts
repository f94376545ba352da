/**
 * One detect replica as its own process, for the Kafka fault tests: runs the
 * detect service on Kafka and appends the id of every event it scored to a
 * file before the batch counts as handled (so before its offsets are committed).
 *   FALCONER_REPLICA='{"brokers":[…],"topic":"…","group":"…","out":"ids.txt","dataDir":"…"}' \
 *     node --import tsx test/kafka/detect-replica.ts
 * Prints "ready" once started; exits 0 on SIGTERM after a graceful close.
 * With "statsOut" (bench/kafka.ts) it also writes, on SIGTERM, when each batch
 * was scored and every event's produce → scored lag.
 */
import { writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { Registry } from 'prom-client';
import { startDetectService } from '../../src/agents/detect/service.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

interface ReplicaSpec {
  brokers: string[];
  topic: string;
  group: string;
  out: string;
  dataDir: string;
  maxBuffered?: number;
  statsOut?: string;
}

const spec = JSON.parse(process.env.FALCONER_REPLICA ?? '') as ReplicaSpec;
const logger = createLogger({
  level: process.env.FALCONER_LOG_LEVEL ?? 'warn',
  name: 'replica',
  destination: 2,
});
const config = ConfigSchema.parse({
  dataDir: spec.dataDir,
  bus: { kind: 'kafka' },
  ingest: { port: 0 },
  gate: { warmupEvents: 5000 },
});
const batches: [number, number][] = [];
const lags: number[] = [];
const service = await startDetectService({
  config,
  registry: new Registry(),
  logger,
  persistModel: false,
  kafka: {
    brokers: spec.brokers,
    groupId: spec.group,
    topics: { events: spec.topic, deadLetter: `${spec.topic}.dlq` },
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    maxBuffered: spec.maxBuffered ?? 4096,
  },
  onBatchScored: async (events, _decisions, records) => {
    if (spec.statsOut !== undefined) {
      const now = Date.now();
      batches.push([now, events.length]);
      for (const r of records) lags.push(now - (r.origin?.timestampMs ?? now));
    }
    let lines = '';
    for (const e of events) lines += `${e.id}\n`;
    await appendFile(spec.out, lines);
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  if (spec.statsOut !== undefined) writeFileSync(spec.statsOut, JSON.stringify({ batches, lags }));
  void service.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
