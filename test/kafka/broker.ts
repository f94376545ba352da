/**
 * Real Kafka brokers for tests, through scripts/kafka.sh: one broker or a
 * three-node cluster under a temp dir, stopped and removed by `stop()`.
 */
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/paths.ts';

export const KAFKA_SCRIPT = join(PROJECT_ROOT, 'scripts', 'kafka.sh');

/** True when `scripts/kafka.sh install` has run and java is on PATH. */
export function kafkaInstalled(): boolean {
  return spawnSync('bash', [KAFKA_SCRIPT, 'libs'], { encoding: 'utf8' }).status === 0;
}

function script(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [KAFKA_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`kafka.sh ${args.join(' ')} failed (${code}): ${err.slice(-2000)}`)),
    );
  });
}

export interface KafkaHandle {
  readonly dir: string;
  readonly brokers: string[];
  stopNode(node: number, kill?: boolean): Promise<void>;
  startNode(node: number): Promise<void>;
  stop(): Promise<void>;
}

async function start(kind: 'start' | 'start-cluster'): Promise<KafkaHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-kafka-'));
  const stopCmd = kind === 'start' ? 'stop' : 'stop-cluster';
  let out: string;
  try {
    out = await script([kind, '--dir', dir]);
  } catch (err) {
    await script([stopCmd, '--dir', dir, '--kill']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const line = out.split('\n').find((l) => l.startsWith('bootstrap='));
  if (line === undefined) throw new Error(`kafka.sh ${kind} printed no bootstrap line: ${out}`);
  return {
    dir,
    brokers: line.slice('bootstrap='.length).split(','),
    stopNode: async (node, kill = false) => {
      await script(['stop-node', String(node), '--dir', dir, ...(kill ? ['--kill'] : [])]);
    },
    startNode: async (node) => {
      await script(['start-node', String(node), '--dir', dir]);
    },
    stop: async () => {
      await script([stopCmd, '--dir', dir, '--kill']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const startKafkaBroker = (): Promise<KafkaHandle> => start('start');
export const startKafkaCluster = (): Promise<KafkaHandle> => start('start-cluster');
