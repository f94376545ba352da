/**
 * Events/s through detect on one data set, in one run, side by side (not a test):
 *   embedded  parse + normalize in process → embedded bus → gate
 *   http      NDJSON POSTs to the detect service's ingest → embedded bus → gate
 *   kafka ×1  raw Falco JSON already in a 6-partition topic → one detect replica (a process)
 *   kafka ×2  the same topic → two replicas in one consumer group (a new group, so the same records)
 * plus the produce rate (acks=all) and the end-to-end lag (produce → scored, p50/p99)
 * with two replicas while alerts are produced at a steady rate.
 * Needs `bash scripts/kafka.sh install`; starts and stops its own broker.
 *   node --import tsx bench/kafka.ts [--events N] [--lag-rate R] [--write]
 * --write records bench/results/kafka.json.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { startDetectService, type DetectService } from '../src/agents/detect/service.ts';
import { jsonCodec } from '../src/bus/kafka-codec.ts';
import { KafkaBus } from '../src/bus/kafka.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { createNormalizer } from '../src/events/normalize.ts';
import type { NormalizedEvent } from '../src/events/types.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { alertLine } from '../src/scenario/serialize.ts';
import { silentLogger } from '../src/telemetry/logger.ts';
import { kafkaInstalled, startKafkaBroker } from '../test/kafka/broker.ts';
import { scoredSoFar, sleep, startReplica, type Replica } from '../test/kafka/fixtures.ts';
import { loadAverage, machineInfo } from './machine.ts';
import { hasFlag, numberFlag } from './args.ts';

const WANTED = numberFlag('--events', 100_000);
const LAG_RATE = numberFlag('--lag-rate', 5000);
const LAG_SECONDS = 10;

if (!kafkaInstalled()) {
  console.error('bench/kafka: Kafka is not installed; run: bash scripts/kafka.sh install');
  process.exit(1);
}

/** Scenario alerts, one per distinct event id (the detect service skips repeated ids on Kafka). */
function scenarioLines(count: number): { lines: string[]; keys: string[] } {
  const normalize = createNormalizer({ cluster: 'default' });
  const seen = new Set<string>();
  const lines: string[] = [];
  const keys: string[] = [];
  // Some scenario alerts repeat (same content and time): generate extra minutes to have enough distinct ones.
  const minutes = 2 * Math.ceil(count / 200 / 60) + 2;
  for (const { alert } of generateScenario({ seed: 11, minutes, rate: 200 })) {
    const line = alertLine(alert);
    const event = normalize(JSON.parse(line));
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    lines.push(line);
    keys.push(event.workload.key);
    if (lines.length === count) break;
  }
  return { lines, keys };
}

const { lines, keys } = scenarioLines(WANTED);
const EVENTS = lines.length;
const work = mkdtempSync(join(tmpdir(), 'falconer-bench-kafka-'));
const round = (x: number): number => Math.round(x);

async function inProcessService(name: string): Promise<{ service: DetectService; scored: () => number }> {
  let scored = 0;
  const service = await startDetectService({
    config: ConfigSchema.parse({
      dataDir: join(work, name),
      ingest: { port: 0 },
      bus: { capacity: 100_000 },
    }),
    registry: new Registry(),
    logger: silentLogger(),
    persistModel: false,
    onBatchScored: (events) => {
      scored += events.length;
    },
  });
  return { service, scored: () => scored };
}

async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await sleep(5);
}

async function embeddedPass(): Promise<number> {
  const { service, scored } = await inProcessService('embedded');
  const normalize = createNormalizer({ cluster: 'default' });
  const t0 = performance.now();
  for (let start = 0; start < lines.length; start += 512) {
    const batch: { key: string; value: NormalizedEvent }[] = [];
    for (let i = start; i < Math.min(lines.length, start + 512); i++) {
      const value = normalize(JSON.parse(lines[i]!));
      batch.push({ key: value.workload.key, value });
    }
    while (!service.bus.publish('falco.events', batch).accepted) await sleep(2);
  }
  await waitFor(() => scored() >= EVENTS);
  const seconds = (performance.now() - t0) / 1000;
  await service.close();
  return EVENTS / seconds;
}

async function httpPass(): Promise<number> {
  const { service, scored } = await inProcessService('http');
  const bodies: string[] = [];
  for (let i = 0; i < lines.length; i += 2000) bodies.push(lines.slice(i, i + 2000).join('\n'));
  let next = 0;
  const t0 = performance.now();
  const poster = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      for (;;) {
        const res = await fetch(service.ingestUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body,
        });
        await res.arrayBuffer();
        if (res.status === 200) break;
        await sleep(Number(res.headers.get('retry-after') ?? '0.05') * 1000);
      }
    }
  };
  await Promise.all([poster(), poster()]);
  await waitFor(() => scored() >= EVENTS);
  const seconds = (performance.now() - t0) / 1000;
  await service.close();
  return EVENTS / seconds;
}

interface ReplicaStats {
  batches: [number, number][];
  lags: number[];
}

async function stopWithStats(replicas: Replica[], dir: string): Promise<ReplicaStats[]> {
  await Promise.all(replicas.map((r) => r.stop()));
  return replicas.map((r) => {
    const stats: ReplicaStats = { batches: [], lags: [] };
    let text = '';
    try {
      text = readFileSync(join(dir, `${r.name}.stats`), 'utf8');
    } catch {
      progress(`replica ${r.name} scored nothing; stderr: ${r.stderr().slice(-1500)}`);
    }
    for (const line of text.split('\n')) {
      const [at, n, lags] = line.split(' ');
      if (at === undefined || n === undefined || lags === undefined) continue;
      stats.batches.push([Number(at), Number(n)]);
      for (const lag of lags.split(',')) stats.lags.push(Number(lag));
    }
    return stats;
  });
}

/** Consumption rate of `count` replicas over the backlog: events / (last batch − first batch). */
async function kafkaPass(brokers: string[], topic: string, count: number): Promise<number> {
  const dir = join(work, `kafka-${count}`);
  mkdirSync(dir, { recursive: true });
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const name = `r${i}`;
    replicas.push(
      await startReplica(name, dir, {
        brokers,
        topic,
        group: `bench-${count}`,
        dataDir: dir,
        statsOut: join(dir, `${name}.stats`),
      }),
    );
  }
  await waitFor(() => scoredSoFar(replicas.map((r) => r.out)) >= EVENTS);
  const stats = await stopWithStats(replicas, dir);
  const times = stats.flatMap((s) => s.batches.map(([at, n]) => ({ at, n })));
  const first = Math.min(...times.map((b) => b.at));
  const last = Math.max(...times.map((b) => b.at));
  // The first batch's own events were scored at `first`: count from the events after it.
  const firstBatch = times.filter((b) => b.at === first).reduce((n, b) => n + b.n, 0);
  return (EVENTS - firstBatch) / ((last - first) / 1000);
}

async function lagPass(brokers: string[], producer: KafkaBus<unknown>): Promise<Record<string, number>> {
  // The replicas create this topic as they start (6 partitions), before anything is produced to it.
  const topic = 'falco.events.lag';
  const dir = join(work, 'lag');
  mkdirSync(dir, { recursive: true });
  const replicas: Replica[] = [];
  for (const name of ['l0', 'l1']) {
    replicas.push(
      await startReplica(name, dir, {
        brokers,
        topic,
        group: 'bench-lag',
        dataDir: dir,
        statsOut: join(dir, `${name}.stats`),
      }),
    );
  }
  await sleep(3000); // both joined
  const total = Math.min(lines.length, LAG_RATE * LAG_SECONDS);
  const tick = 50;
  const perTick = Math.max(1, Math.round((LAG_RATE * tick) / 1000));
  const t0 = Date.now();
  for (let i = 0, n = 0; i < total; i += perTick, n++) {
    const chunk = [];
    for (let j = i; j < Math.min(total, i + perTick); j++) chunk.push({ key: keys[j], value: lines[j]! });
    await producer.sendRaw(topic, chunk);
    const wait = t0 + (n + 1) * tick - Date.now();
    if (wait > 0) await sleep(wait);
  }
  await waitFor(() => scoredSoFar(replicas.map((r) => r.out)) >= total);
  const stats = await stopWithStats(replicas, dir);
  const lags = stats.flatMap((s) => s.lags).sort((a, b) => a - b);
  const at = (q: number): number => lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? NaN;
  return { events: lags.length, eventsPerSecond: LAG_RATE, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}

const progress = (msg: string): void => void process.stderr.write(`bench/kafka: ${msg}\n`);
const loadStart = loadavg();
const broker = await startKafkaBroker();
let result: Record<string, unknown>;
try {
  progress(`${EVENTS} events; embedded bus`);
  const embedded = await embeddedPass();
  progress(`embedded ${round(embedded)}/s; HTTP ingest`);
  const http = await httpPass();
  progress(`http ${round(http)}/s; producing to Kafka`);

  const topic = 'falco.events';
  const producer = new KafkaBus<unknown>({
    config: { brokers: broker.brokers, topics: { events: topic }, partitions: 6 },
    codec: jsonCodec(),
    log: {
      info: () => {},
      warn: (o, m) => progress(`${m} ${JSON.stringify(o)}`),
      error: (o, m) => progress(`${m} ${JSON.stringify(o)}`),
    },
  });
  await producer.start();
  const tp = performance.now();
  for (let i = 0; i < lines.length; i += 5000) {
    const chunk = [];
    for (let j = i; j < Math.min(lines.length, i + 5000); j++) chunk.push({ key: keys[j], value: lines[j]! });
    await producer.sendRaw(topic, chunk);
  }
  const produceRate = EVENTS / ((performance.now() - tp) / 1000);

  progress(`produced ${round(produceRate)}/s; one replica`);
  const kafka1 = await kafkaPass(broker.brokers, topic, 1);
  progress(`one replica ${round(kafka1)}/s; two replicas`);
  const kafka2 = await kafkaPass(broker.brokers, topic, 2);
  progress(`two replicas ${round(kafka2)}/s; lag at ${LAG_RATE}/s`);
  const lag = await lagPass(broker.brokers, producer);
  await producer.close();

  result = {
    benchmark: 'kafka',
    description:
      'events/s through the detect service (parse, validate, normalize, score, gate) over the same scenario alerts: embedded bus, HTTP ingest, Kafka with one and two replicas (child processes, one consumer group, 6 partitions, one broker on loopback); Kafka rates are consumption of a backlog; lag is produce → scored with two replicas at a steady produce rate',
    events: EVENTS,
    meanEventBytes: round(lines.reduce((n, l) => n + Buffer.byteLength(l), 0) / lines.length),
    eventsPerSecond: {
      embeddedBus: round(embedded),
      httpIngest: round(http),
      kafkaProduceAcksAll: round(produceRate),
      kafkaOneReplica: round(kafka1),
      kafkaTwoReplicas: round(kafka2),
    },
    ratios: {
      kafkaOneReplicaToEmbedded: Number((kafka1 / embedded).toFixed(3)),
      kafkaTwoReplicasToOne: Number((kafka2 / kafka1).toFixed(3)),
      httpToEmbedded: Number((http / embedded).toFixed(3)),
    },
    endToEndLag: lag,
    machine: {
      ...machineInfo(),
      loadAverageStart: loadAverage(loadStart),
      loadAverageEnd: loadAverage(),
      note: 'two cores shared with other work: two replicas cannot double the rate of one',
    },
    date: new Date().toISOString(),
    commit: (() => {
      try {
        return execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim();
      } catch {
        return 'unknown';
      }
    })(),
  };
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 2));
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/kafka.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}
