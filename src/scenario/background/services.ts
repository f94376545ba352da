/**
 * Steady application traffic: interpreted services opening and accepting
 * connections, PostgreSQL archiving its WAL to S3, the payments API calling its
 * payment provider, spans sent to a tracing agent over UDP. Each fires Falco
 * rules all day (sandbox/incubating rules that real deployments tune, or not).
 */
import { mainContainer } from '../cluster.ts';
import { s3, sentry, stripe } from '../destinations.ts';
import { accepted, connected, execve, type Peer } from '../events.ts';
import { initChain, underInit } from '../facts.ts';
import type { Container, Role } from '../model.ts';
import { proc } from '../model.ts';
import type { BackgroundActivity, EpisodeContext } from './activity.ts';
import { FLAT, TRAFFIC } from './activity.ts';
import { hasAny, MS, pickContainer, servicePeer } from './helpers.ts';

const SERVICE_ROLES: readonly (readonly [Role, number])[] = [
  ['web-node', 3],
  ['ml-api', 2],
];

function upstream(ctx: EpisodeContext, c: Container): Peer {
  const { rng, cluster } = ctx;
  if (c.pod.workload.role === 'web-node') {
    const key = rng.weighted<string>([
      ['payments-api.payments', 4],
      ['catalog-api.shop', 3],
      ['redis.data', 2],
      ['sentry', 0.3],
    ]);
    return key === 'sentry' ? sentry(rng) : servicePeer(cluster, key);
  }
  const key = rng.weighted<string>([
    ['postgres.data', 5],
    ['redis.data', 2],
    ['s3', 1],
    ['sentry', 0.3],
  ]);
  if (key === 's3') return s3(rng, cluster.region);
  return key === 'sentry' ? sentry(rng) : servicePeer(cluster, key);
}

/** Node and Python services open connections (connection pools refill in small bursts). */
export const appOutbound: BackgroundActivity = {
  name: 'app-outbound',
  intensity: { share: 0.24 },
  rhythm: TRAFFIC,
  available: (cluster) => hasAny(cluster, ['web-node', 'ml-api']),
  episode(ctx) {
    const c = pickContainer(ctx.rng, ctx.cluster, SERVICE_ROLES) as Container;
    const n = ctx.rng.weighted([
      [1, 6],
      [2, 2],
      [3, 1],
    ]);
    const to = upstream(ctx, c);
    for (let i = 0; i < n; i++)
      ctx.kernel(i * ctx.rng.uniform(0.2, 40) * MS, {
        op: 'connect',
        facts: connected(ctx.rng, c, initChain(c), to),
      });
  },
};

/** The same services accept requests: from the ingress controller, or from the payments API. */
export const appInbound: BackgroundActivity = {
  name: 'app-inbound',
  intensity: { share: 0.2 },
  rhythm: TRAFFIC,
  available: (cluster) => hasAny(cluster, ['web-node', 'ml-api']),
  episode(ctx) {
    const { rng, cluster } = ctx;
    const c = pickContainer(rng, cluster, SERVICE_ROLES) as Container;
    const web = c.pod.workload.role === 'web-node';
    const clients = cluster.podsOf(web ? 'ingress' : 'api-java');
    const from =
      clients.length > 0 ? rng.pick(clients).ip : `10.0.${rng.between(1, 3)}.${rng.between(10, 250)}`;
    const n = rng.weighted([
      [1, 5],
      [2, 2],
      [4, 1],
    ]);
    for (let i = 0; i < n; i++) {
      ctx.kernel(i * rng.uniform(0.5, 30) * MS, {
        op: 'accept',
        facts: accepted(rng, c, initChain(c), from, web ? 3000 : 8080),
      });
    }
  },
};

function walSegment(now: number, podSalt: number): string {
  // 16 MB segments; a busy database fills one every few seconds.
  const n = 0x2a00 * 256 + podSalt + Math.floor(now / (6 * 1e9));
  const log = Math.floor(n / 256);
  const seg = n % 256;
  return `00000001${log.toString(16).toUpperCase().padStart(8, '0')}${seg.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** PostgreSQL's archive_command: `sh -c "wal-g wal-push …"`, then wal-g uploads the segment to S3. */
export const walArchive: BackgroundActivity = {
  name: 'wal-archive',
  intensity: { share: 0.08 },
  rhythm: TRAFFIC,
  available: (cluster) => hasAny(cluster, ['postgres']),
  episode(ctx) {
    const { rng, cluster } = ctx;
    const c = mainContainer(rng.pick(cluster.podsOf('postgres')));
    const archiver = { ...c.init, sessionLeader: false };
    const segment = walSegment(ctx.now, c.pod.name.length * 7919);
    const sh = proc('/usr/bin/dash', `-c wal-g wal-push pg_wal/${segment}`, c.init.cwd, { exe: 'sh' });
    ctx.kernel(0, { op: 'exec', facts: execve(c, underInit(c, sh, archiver)) });
    const walg = proc('/usr/local/bin/wal-g', `wal-push pg_wal/${segment}`, c.init.cwd, { exe: 'wal-g' });
    const chain = underInit(c, walg, sh, archiver);
    ctx.kernel(rng.uniform(2, 15) * MS, { op: 'exec', facts: execve(c, chain) });
    ctx.kernel(rng.uniform(20, 120) * MS, {
      op: 'connect',
      facts: connected(rng, c, chain, s3(rng, cluster.region)),
    });
  },
};

/** The payments API calls its payment provider (payments is a subnet-only namespace, so Falco notices). */
export const paymentsEgress: BackgroundActivity = {
  name: 'payments-egress',
  intensity: { share: 0.06 },
  rhythm: TRAFFIC,
  available: (cluster) => hasAny(cluster, ['api-java']),
  episode(ctx) {
    const c = mainContainer(ctx.rng.pick(ctx.cluster.podsOf('api-java')));
    ctx.kernel(0, { op: 'connect', facts: connected(ctx.rng, c, initChain(c), stripe(ctx.rng)) });
  },
};

/** OpenTelemetry/Jaeger spans over UDP 6831: not in expected_udp_ports. */
export const tracingUdp: BackgroundActivity = {
  name: 'tracing-udp',
  intensity: { share: 0.04 },
  rhythm: FLAT,
  available: (cluster) => hasAny(cluster, ['api-java']) && ctxHasJaeger(cluster.services),
  episode(ctx) {
    const c = mainContainer(ctx.rng.pick(ctx.cluster.podsOf('api-java')));
    ctx.kernel(0, {
      op: 'connect',
      facts: connected(ctx.rng, c, initChain(c), servicePeer(ctx.cluster, 'jaeger-agent.monitoring')),
    });
  },
};

function ctxHasJaeger(services: ReadonlyMap<string, unknown>): boolean {
  return services.has('jaeger-agent.monitoring');
}
