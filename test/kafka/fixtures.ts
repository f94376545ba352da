/**
 * Shared pieces of the Kafka tests: Falco alerts with distinct ids, a producer
 * that writes them to a topic, and detect replicas as child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { jsonCodec } from '../../src/bus/kafka-codec.ts';
import { KafkaBus } from '../../src/bus/kafka.ts';
import { createNormalizer } from '../../src/events/normalize.ts';
import { PROJECT_ROOT } from '../support/paths.ts';

const BASE_MS = Date.parse('2024-05-14T09:00:00.000Z');

/** Alert number i: a shell in one of 64 pods, distinct time and pid, so a distinct event id. */
export function alertLine(i: number): string {
  const pod = i % 64;
  return JSON.stringify({
    hostname: `worker-${pod % 3}`,
    output: `Notice A shell was spawned in a container (user=root process=bash pid=${i} k8s_pod_name=web-${pod})`,
    priority: 'Notice',
    rule: 'Terminal shell in container',
    source: 'syscall',
    tags: ['container', 'shell'],
    time: new Date(BASE_MS + i).toISOString(),
    output_fields: {
      'container.id': `c0ffee${pod.toString(16).padStart(6, '0')}`,
      'evt.type': 'execve',
      'k8s.ns.name': 'shop',
      'k8s.pod.name': `web-${pod}`,
      'proc.cmdline': `bash -c job-${i % 97}`,
      'proc.pid': i,
      'user.name': 'root',
    },
  });
}

export const alertKey = (i: number): string => `shop/web-${i % 64}`;

/** The ids the detect service gives alerts 0..count-1 (the test's ground truth). */
export function expectedIds(count: number): Set<string> {
  const normalize = createNormalizer({ cluster: 'default' });
  const ids = new Set<string>();
  for (let i = 0; i < count; i++) ids.add(normalize(JSON.parse(alertLine(i))).id);
  return ids;
}

/** A producer-only bus on `topic` (creates it with 6 partitions when missing). */
export async function startProducer(brokers: string[], topic: string): Promise<KafkaBus<unknown>> {
  const bus = new KafkaBus<unknown>({
    config: { brokers, clientId: 'test-producer', topics: { events: topic, deadLetter: `${topic}.dlq` } },
    codec: jsonCodec(),
  });
  await bus.start();
  return bus;
}

/** Writes alerts [from, to) in chunks; `onChunk` runs after each (fault injection hooks in there). */
export async function produceAlerts(
  bus: KafkaBus<unknown>,
  topic: string,
  from: number,
  to: number,
  onChunk?: (produced: number) => Promise<void> | void,
): Promise<void> {
  const CHUNK = 5000;
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    const records = [];
    for (let i = start; i < end; i++) records.push({ key: alertKey(i), value: alertLine(i) });
    await bus.sendRaw(topic, records);
    await onChunk?.(end);
  }
}

export interface Replica {
  readonly name: string;
  readonly out: string;
  readonly child: ChildProcess;
  stderr(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReplicaSpec {
  brokers: string[];
  topic: string;
  group: string;
  dataDir: string;
  /** Where the replica writes batch times and lags on SIGTERM (bench). */
  statsOut?: string;
}

const REPLICA_SCRIPT = join(PROJECT_ROOT, 'test', 'kafka', 'detect-replica.ts');

/** Starts a detect replica process; resolves when it has joined (printed "ready"). */
export function startReplica(name: string, dir: string, spec: ReplicaSpec): Promise<Replica> {
  const out = join(dir, `${name}.ids`);
  const child = spawn(process.execPath, ['--import', 'tsx', REPLICA_SCRIPT], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      FALCONER_REPLICA: JSON.stringify({ ...spec, out, dataDir: join(dir, `${name}-data`) }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const replica: Replica = {
    name,
    out,
    child,
    stderr: () => err,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replica ${name} not ready after 120 s: ${err}`));
    }, 120_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(replica);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`replica ${name} exited (${code}) before ready: ${err}`));
    });
  });
}

const ID_LINE = /^[0-9a-f]{32}$/;

/** Ids recorded in a replica's file (a line cut by kill -9 is ignored: its batch was not committed). */
export function readIds(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((l) => ID_LINE.test(l));
}

/** Approximate count of scored ids in the files, from their sizes (33 bytes a line). */
export function scoredSoFar(files: readonly string[]): number {
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f).size;
    } catch {
      // not created yet
    }
  }
  return Math.floor(bytes / 33);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
