/**
 * The Kafka bus against a real broker (scripts/kafka.sh): dead letters with
 * their reason, missing topics, an unreachable cluster, consumer-group sharing,
 * redelivery after a failing handler, backpressure, and the detect service on
 * Kafka fed through its HTTP ingest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Consumer, stringDeserializers } from '@platformatic/kafka';
import { Registry } from 'prom-client';
import { startDetectService } from '../../src/agents/detect/service.ts';
import { falcoEventCodec, jsonCodec } from '../../src/bus/kafka-codec.ts';
import { DLQ_HEADERS } from '../../src/bus/kafka-dlq.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import type { KafkaLog } from '../../src/bus/kafka-log.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import { isFalconerError } from '../../src/errors.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { silentLogger } from '../../src/telemetry/logger.ts';
import { requireComponent } from '../support/components.ts';
import { kafkaInstalled, startKafkaBroker, type KafkaHandle } from './broker.ts';
import { alertKey, alertLine, expectedIds, sleep } from './fixtures.ts';

const installed = kafkaInstalled();
let kafka: KafkaHandle | undefined;
let topicSeq = 0;
const newTopic = (): string => `t${process.pid}-${Date.now()}-${topicSeq++}`;

before(async () => {
  if (installed) kafka = await startKafkaBroker();
});
after(async () => {
  await kafka?.stop();
});

function recordingLog(): KafkaLog & { warnings: string[]; details: string[] } {
  const warnings: string[] = [];
  const details: string[] = [];
  const keep = (o: object, m: string): void => {
    warnings.push(m);
    details.push(`${m} ${JSON.stringify(o)}`);
  };
  return { warnings, details, info: keep, warn: keep, error: keep };
}

async function until(what: string, check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Every record of a topic from the start, with headers (a plain consumer, its own group). */
async function readTopic(brokers: string[], topic: string, count: number) {
  const consumer = new Consumer({
    clientId: 'test-reader',
    groupId: `reader-${newTopic()}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 200,
  });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  const out: { key: string | undefined; value: string; headers: Map<string, string>; partition: number }[] =
    [];
  try {
    const deadline = Date.now() + 30_000;
    for await (const m of stream) {
      out.push({ key: m.key, value: m.value, headers: m.headers, partition: m.partition });
      if (out.length >= count || Date.now() > deadline) break;
    }
  } finally {
    await stream.close();
    await consumer.close(true);
  }
  return out;
}

test(
  'bad records go to the dead-letter topic with the reason in headers; the consumer keeps going',
  { timeout: 300_000 },
  async (t) => {
    if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
    const brokers = kafka!.brokers;
    const topic = newTopic();
    const log = recordingLog();
    const bus = new KafkaBus<NormalizedEvent>({
      // One partition each, so the records' order and offsets are known.
      config: {
        brokers,
        topics: { events: topic, deadLetter: `${topic}.dlq` },
        maxRecordBytes: 4096,
        partitions: 1,
      },
      codec: falcoEventCodec(),
      log,
    });
    t.after(() => bus.close());
    t.after(() => {
      for (const d of log.details) t.diagnostic(d.slice(0, 500));
    });
    const got: NormalizedEvent[] = [];
    bus.subscribe(topic, 'detect', (records) => {
      for (const r of records) got.push(r.value);
    });
    await bus.start();
    await bus.sendRaw(topic, [
      { key: alertKey(1), value: alertLine(1) },
      { value: 'this is not JSON {' },
      { value: JSON.stringify({ rule: 'x', padding: 'y'.repeat(5000) }) },
      { value: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' } }) },
      { value: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) },
      { value: '' },
      { key: alertKey(2), value: alertLine(2) },
    ]);
    // The first consumer group on a fresh broker waits for __consumer_offsets to be created: slow on a busy machine.
    await until('the two good alerts', () => got.length === 2, 240_000);
    // Two keys, maybe two partitions: no order between them.
    assert.deepEqual(got.map((e) => e.fields['proc.pid']).sort(), [1, 2]);
    const dead = await readTopic(brokers, `${topic}.dlq`, 5);
    assert.deepEqual(
      dead.map((d) => d.headers.get(DLQ_HEADERS.code)),
      ['EVENT_INVALID_JSON', 'EVENT_TOO_LARGE', 'EVENT_SCHEMA', 'EVENT_INVALID_UTF8', 'EVENT_INVALID_JSON'],
    );
    const [first] = dead;
    assert.equal(first!.value, 'this is not JSON {', 'the rejected bytes are kept as they were');
    assert.equal(first!.headers.get(DLQ_HEADERS.topic), topic);
    assert.equal(first!.headers.get(DLQ_HEADERS.partition), '0');
    assert.equal(first!.headers.get(DLQ_HEADERS.offset), '1');
    assert.match(first!.headers.get(DLQ_HEADERS.message) ?? '', /invalid JSON/);
    assert.match(dead[2]!.headers.get(DLQ_HEADERS.message) ?? '', /priority|output_fields|time/);
    assert.equal(bus.stats().deadLettered, 5);
    assert.ok(log.warnings.includes('kafka records dead-lettered'));
  },
);

test('a missing topic is refused with its name when createTopics is false', async (t) => {
  if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
  const topic = newTopic();
  const bus = new KafkaBus({
    config: { brokers: kafka!.brokers, topics: { events: topic }, createTopics: false },
    codec: jsonCodec(),
  });
  await assert.rejects(bus.start(), (err: unknown) => {
    assert.ok(isFalconerError(err, 'KAFKA_TOPIC_MISSING'));
    assert.match(err.message, new RegExp(`${topic}.*do not exist.*createTopics`));
    return true;
  });
  await bus.close();
});

test('an unreachable cluster: start retries with a logged backoff, then fails with KAFKA_UNREACHABLE', async () => {
  // A port nobody listens on: bind one, note it, close it.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const log = recordingLog();
  const bus = new KafkaBus({
    config: { brokers: [`127.0.0.1:${port}`], connectTimeoutMs: 1500 },
    codec: jsonCodec(),
    log,
  });
  await assert.rejects(bus.start(), (err: unknown) => {
    assert.ok(isFalconerError(err, 'KAFKA_UNREACHABLE'));
    assert.match(
      err.message,
      new RegExp(`no Kafka broker answered at 127\\.0\\.0\\.1:${port} within 1500 ms`),
    );
    return true;
  });
  assert.ok(log.warnings.filter((w) => w === 'kafka brokers unreachable; retrying').length >= 1);
  await bus.close();
});

test('replicas in one group share the partitions; every record is handled once', async (t) => {
  if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
  const topic = newTopic();
  const mk = () =>
    new KafkaBus<{ n: number }>({
      config: {
        brokers: kafka!.brokers,
        topics: { events: topic, deadLetter: `${topic}.dlq` },
        partitions: 6,
      },
      codec: jsonCodec(),
    });
  const [a, b] = [mk(), mk()];
  t.after(() => Promise.all([a.close(), b.close()]));
  const byReplica = [new Set<number>(), new Set<number>()];
  const partitions = [new Set<number>(), new Set<number>()];
  [a, b].forEach((bus, i) =>
    bus.subscribe(topic, 'shared', (records) => {
      for (const r of records) {
        byReplica[i]!.add(r.value.n);
        partitions[i]!.add(r.origin!.partition);
      }
    }),
  );
  await Promise.all([a.start(), b.start()]);
  // Let both join before producing, so the work is split.
  await sleep(3000);
  const N = 6000;
  for (let i = 0; i < N; i += 500) {
    assert.ok(
      a.publish(
        topic,
        Array.from({ length: 500 }, (_, j) => ({ key: `k${(i + j) % 60}`, value: { n: i + j } })),
      ).accepted,
    );
  }
  await until('all records handled', () => byReplica[0]!.size + byReplica[1]!.size >= N);
  await a.drain();
  const union = new Set([...byReplica[0]!, ...byReplica[1]!]);
  assert.equal(union.size, N);
  assert.ok(byReplica[0]!.size > 0 && byReplica[1]!.size > 0, 'both replicas got work');
  for (const p of partitions[0]!) assert.ok(!partitions[1]!.has(p), `partition ${p} owned by one replica`);
});

test('a failing handler gets the batch again, and offsets move only after it succeeded', async (t) => {
  if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
  const topic = newTopic();
  const config = { brokers: kafka!.brokers, topics: { events: topic, deadLetter: `${topic}.dlq` } };
  const bus = new KafkaBus<{ n: number }>({ config, codec: jsonCodec(), retryDelayMs: 20 });
  let failures = 0;
  const handled: number[] = [];
  bus.subscribe(topic, 'retry', (records) => {
    if (failures < 3) {
      failures += 1;
      throw new Error('store unavailable');
    }
    for (const r of records) handled.push(r.value.n);
  });
  await bus.start();
  bus.publish(
    topic,
    [1, 2, 3].map((n) => ({ key: 'k', value: { n } })),
  );
  await until('the batch after three failures', () => handled.length === 3);
  await bus.drain();
  assert.deepEqual(handled, [1, 2, 3]);
  assert.equal(bus.stats().failedDeliveries, 3);
  await bus.close();

  // A new member of the group starts after the committed offsets: nothing again.
  const again = new KafkaBus<{ n: number }>({ config, codec: jsonCodec() });
  t.after(() => again.close());
  const seen: number[] = [];
  again.subscribe(topic, 'retry', (records) => {
    for (const r of records) seen.push(r.value.n);
  });
  await again.start();
  again.publish(topic, [{ key: 'k', value: { n: 4 } }]);
  await until('the new record', () => seen.length > 0);
  assert.deepEqual(seen, [4]);
});

test('a slow handler stops fetching (backpressure) and the buffer stays bounded', async (t) => {
  if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
  const topic = newTopic();
  const bus = new KafkaBus<{ n: number; pad: string }>({
    config: {
      brokers: kafka!.brokers,
      topics: { events: topic, deadLetter: `${topic}.dlq` },
      maxBuffered: 300,
      maxBatch: 100,
      fetchMaxBytes: 16 * 1024,
    },
    codec: jsonCodec(),
  });
  t.after(() => bus.close());
  const N = 5000;
  let handled = 0;
  const distinct = new Set<number>();
  let deepest = 0;
  bus.subscribe(topic, 'slow', async (records) => {
    deepest = Math.max(deepest, bus.stats().buffered);
    await sleep(5);
    handled += records.length;
    for (const r of records) distinct.add(r.value.n);
  });
  await bus.start();
  bus.publish(
    topic,
    Array.from({ length: N }, (_, n) => ({ key: `k${n % 10}`, value: { n, pad: 'x'.repeat(100) } })),
  );
  await until('all handled', () => distinct.size === N);
  // At-least-once: when fetching resumes the client may fetch a range twice; the detect service drops
  // such repeats by event id. They stay a fraction of the backlog.
  assert.ok(handled - N < N / 2, `${handled - N} records delivered twice`);
  assert.ok(bus.stats().pauses > 0, 'the buffer filled at least once');
  // The stream's buffer (300) plus one fetch response. Brokers return whole record batches even past
  // fetchMaxBytes, and the producer wrote batches of at most 2048 records (its send chunk).
  assert.ok(deepest <= 300 + 2048, `buffer depth ${deepest} stayed bounded`);
  assert.ok(deepest < N / 2, `buffer depth ${deepest}: the backlog stayed in Kafka`);
});

test('detect on Kafka: the HTTP ingest writes Falco JSON to the topic and the consumer scores it', async (t) => {
  if (!requireComponent(t, 'kafka', installed, 'run: bash scripts/kafka.sh install')) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'falconer-kafka-detect-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const topic = newTopic();
  const config = ConfigSchema.parse({
    dataDir,
    bus: { kind: 'kafka' },
    ingest: { port: 0 },
    gate: { warmupEvents: 100 },
  });
  const scored = new Set<string>();
  const service = await startDetectService({
    config,
    registry: new Registry(),
    logger: silentLogger(),
    persistModel: false,
    kafka: {
      brokers: kafka!.brokers,
      groupId: 'detect-http',
      topics: { events: topic, deadLetter: `${topic}.dlq` },
    },
    onBatchScored: (events) => {
      for (const e of events) scored.add(e.id);
    },
  });
  t.after(() => service.close());
  assert.equal(service.bus.kind, 'kafka');
  const N = 300;
  const body = Array.from({ length: N }, (_, i) => alertLine(i)).join('\n');
  const res = await fetch(service.ingestUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  assert.equal(res.status, 200, await res.text());
  await until('all events scored', () => scored.size === N);
  assert.deepEqual(scored, expectedIds(N), 'same ids as the alerts normalized directly');
  const [raw] = await readTopic(kafka!.brokers, topic, 1);
  const alert = JSON.parse(raw!.value) as Record<string, unknown>;
  assert.equal(alert.rule, 'Terminal shell in container');
  assert.equal(typeof alert.time, 'string');
  assert.ok(typeof alert.output_fields === 'object');
  assert.match(raw!.key ?? '', /web-/);
  await service.drain();
  assert.equal(service.stats().gate.seen, N);
});
