/**
 * One detect replica as its own process, for the Kafka fault tests: runs the
 * detect service on Kafka and appends the id of every event it scored to a
 * file before the batch counts as handled (so before its offsets are committed).
 *   FALCONER_REPLICA='{"brokers":[…],"topic":"…","group":"…","out":"ids.txt","dataDir":"…"}' \
 *     node --import tsx test/kafka/detect-replica.ts
 * Prints "ready" once started; exits 0 on SIGTERM after a graceful close.
 * With "statsOut" (bench/kafka.ts) it also appends a line per batch: when it was
 * scored (epoch ms), its size, and each event's produce → scored lag (ms, comma-separated).
 */
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
      const lags = records.map((r) => now - (r.origin?.timestampMs ?? now));
      await appendFile(spec.statsOut, `${now} ${events.length} ${lags.join(',')}\n`);
    }
    let lines = '';
    for (const e of events) lines += `${e.id}\n`;
    await appendFile(spec.out, lines);
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void service.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
