/**
 * Hand-made NormalizedEvents for the gate's unit tests: the fields Falco's
 * syscall rules write, without going through the normalizer, so the gate's
 * tests do not depend on the ingest code.
 */
import type { FieldValue, NormalizedEvent, Priority } from '../../src/events/types.ts';
import { PRIORITIES } from '../../src/events/types.ts';

export interface EventSpec {
  id?: string;
  timeMs?: number;
  rule?: string;
  priority?: Priority;
  namespace?: string;
  pod?: string;
  container?: string;
  image?: string;
  proc?: string;
  pname?: string;
  cmdline?: string;
  user?: string;
  fields?: Record<string, FieldValue>;
}

let counter = 0;

export const T0 = Date.parse('2025-03-10T09:00:00Z');

export function makeEvent(spec: EventSpec = {}): NormalizedEvent {
  const timeMs = spec.timeMs ?? T0;
  const priority = spec.priority ?? 'Notice';
  const namespace = spec.namespace ?? 'shop';
  const pod = spec.pod ?? 'web-7d4b9c8f6d-x2k9p';
  const fields: Record<string, FieldValue> = {
    'k8s.ns.name': namespace,
    'k8s.pod.name': pod,
    'container.id': 'a1b2c3d4e5f6',
    'container.name': spec.container ?? 'app',
    'container.image.repository': spec.image ?? 'docker.io/library/nginx',
    'proc.name': spec.proc ?? 'nginx',
    'proc.pname': spec.pname ?? 'nginx',
    'proc.cmdline': spec.cmdline ?? `${spec.proc ?? 'nginx'} -g daemon off;`,
    'user.name': spec.user ?? 'www-data',
    ...spec.fields,
  };
  for (const [k, v] of Object.entries(fields)) if (v === undefined) delete fields[k];
  const image = spec.image ?? 'docker.io/library/nginx';
  return {
    id: spec.id ?? `ev-${++counter}`,
    timeMs,
    time: new Date(timeMs).toISOString(),
    rule: spec.rule ?? 'Contact K8S API Server From Container',
    priority,
    priorityLevel: PRIORITIES.indexOf(priority),
    source: 'syscall',
    hostname: 'ip-10-0-1-12.ec2.internal',
    tags: [],
    output: 'test event',
    fields,
    workload: {
      key: `pod:default/${namespace}/${pod}`,
      kind: 'pod',
      host: 'ip-10-0-1-12.ec2.internal',
      cluster: 'default',
      namespace,
      pod,
      container: spec.container ?? 'app',
      containerId: 'a1b2c3d4e5f6',
      image: `${image}:1.27`,
    },
  };
}

/** Small seeded PRNG (mulberry32) for test streams. */
export function testRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Template extends EventSpec {
  /** Replicas: pods of one owner. */
  pods: string[];
}

const BENIGN: Template[] = [
  {
    rule: 'Read sensitive file untrusted',
    proc: 'php-fpm',
    pname: 'php-fpm',
    image: 'shop/php',
    pods: ['shop-php-5f6d7c8b9-bcdfg', 'shop-php-5f6d7c8b9-hjklm'],
    fields: { 'fd.name': '/etc/ssl/private/key.pem' },
  },
  {
    rule: 'Launch Package Management Process in Container',
    proc: 'apt-get',
    pname: 'sh',
    image: 'ci/runner',
    pods: ['runner-6b7c8d9f5-bcdfg'],
    cmdline: 'apt-get install -y curl',
  },
  {
    rule: 'Unexpected outbound connection destination',
    proc: 'curl',
    pname: 'sh',
    image: 'ci/runner',
    pods: ['runner-6b7c8d9f5-bcdfg'],
    fields: { 'fd.rip': '10.0.3.7', 'fd.rport': 443 },
  },
  {
    rule: 'Terminal shell in container',
    proc: 'bash',
    pname: 'runc',
    image: 'shop/api',
    pods: ['api-7c8d9f5b6-cdfgh', 'api-7c8d9f5b6-npqrs'],
    cmdline: 'bash',
  },
  {
    rule: 'Write below etc',
    proc: 'confd',
    pname: 'confd',
    image: 'infra/confd',
    pods: ['confd-z9x8w', 'confd-q2w4r'],
    fields: { 'fd.name': '/etc/nginx/conf.d/app.conf' },
  },
  {
    rule: 'Redirect STDOUT/STDIN to Network Connection in Container',
    proc: 'java',
    pname: 'java',
    image: 'shop/api',
    pods: ['api-7c8d9f5b6-cdfgh', 'api-7c8d9f5b6-npqrs'],
    fields: { 'fd.rip': '10.0.2.9', 'fd.rport': 5432 },
  },
  {
    rule: 'Contact K8S API Server From Container',
    proc: 'argocd-app',
    pname: 'tini',
    image: 'argo/argocd',
    pods: ['argocd-0', 'argocd-1'],
    fields: { 'fd.rip': '10.100.0.1', 'fd.rport': 443 },
  },
  {
    rule: 'Clear Log Activities',
    proc: 'logrotate',
    pname: 'cron',
    image: 'infra/logs',
    pods: ['logs-fghjk'],
    fields: { 'fd.name': '/var/log/app.log' },
  },
];

/**
 * A stationary benign stream: a handful of templates with skewed weights,
 * one or more replicas per owner, `rate` events per second.
 */
export function* stationaryStream(
  seed: number,
  count: number,
  rate = 50,
  start = T0,
): Generator<NormalizedEvent> {
  const rnd = testRng(seed);
  const weights = BENIGN.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < count; i++) {
    let u = rnd() * total;
    let k = 0;
    while (u > weights[k]! && k < weights.length - 1) u -= weights[k++]!;
    const { pods, ...spec } = BENIGN[k]!;
    yield makeEvent({
      ...spec,
      pod: pods[Math.floor(rnd() * pods.length)]!,
      timeMs: start + Math.floor((i * 1000) / rate),
      cmdline: `${spec.cmdline ?? spec.proc!} --worker ${Math.floor(rnd() * 4)} --request ${'abcdefghij'.slice(0, 1 + Math.floor(rnd() * 10))}${Math.floor(rnd() * 1e6)}`,
    });
  }
}
