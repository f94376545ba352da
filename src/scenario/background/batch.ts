/**
 * Night-time CronJobs: the ETL job (pip install at start, then hours of queries
 * and S3 uploads from Python), the database backup (pg_dump, rsync to the backup
 * host, `aws s3 cp` from the data namespace) and the report builder.
 */
import type { Cluster } from '../cluster.ts';
import { podSuffix } from '../cluster.ts';
import { s3 } from '../destinations.ts';
import { connected, execve, type Peer } from '../events.ts';
import { shimOf, SYSTEMD } from '../facts.ts';
import type { Container, Pod, Proc, UserIdentity, Workload } from '../model.ts';
import { BASH, proc } from '../model.ts';
import { USERS } from '../cluster.ts';
import type { BackgroundActivity, EpisodeContext } from './activity.ts';
import { NIGHT } from './activity.ts';
import { MINUTE, MS, SECOND, servicePeer } from './helpers.ts';

function cronPod(
  ctx: EpisodeContext,
  namespace: string,
  cronJob: string,
  image: { repository: string; tag: string },
  user: UserIdentity,
  init: Proc,
): Container {
  const { rng, cluster } = ctx;
  const node = rng.pick(cluster.nodes);
  const scheduledMinute = Math.floor((ctx.startMs + ctx.now / 1e6) / 60000);
  const workload: Workload = {
    namespace,
    name: cronJob,
    kind: 'Job',
    role: cronJob === 'pg-backup' ? 'pg-backup' : 'batch-etl',
    serviceAccount: cronJob,
    pods: [],
  };
  const containers: Container[] = [];
  const pod: Pod = {
    name: `${cronJob}-${scheduledMinute}-${podSuffix(rng)}`,
    namespace,
    node,
    ip: cluster.allocatePodIp(rng, node),
    workload,
    sandboxId: rng.hex(64),
    containers,
  };
  const c: Container = {
    id: rng.hex(12),
    name: cronJob,
    image,
    privileged: false,
    startNs: ctx.startMs * 1e6 + ctx.now + 3e9,
    user,
    init,
    shell: BASH,
    pod,
  };
  containers.push(c);
  return c;
}

function chain(c: Container, ...procs: Proc[]): Proc[] {
  return [...procs, c.init, shimOf(c), SYSTEMD];
}

function etl(ctx: EpisodeContext, cluster: Cluster): void {
  const { rng } = ctx;
  const python = proc(
    '/usr/local/bin/python3.12',
    `-m etl.run --date ${new Date(ctx.startMs + ctx.now / 1e6 - 86400000).toISOString().slice(0, 10)}`,
    '/app/',
    { exe: 'python3', sessionLeader: true },
  );
  const c = cronPod(
    ctx,
    'batch',
    'nightly-etl',
    { repository: 'registry.gitlab.acme-shop.example/data/etl', tag: '3.4.0' },
    USERS.root,
    python,
  );
  let dt = 3 * SECOND;
  if (rng.chance(0.35)) {
    // Bad practice, common: dependencies installed at start by an entrypoint script.
    const sh = proc(
      '/bin/sh',
      '-c pip install --no-cache-dir -r requirements-runtime.txt && exec python3 -m etl.run',
      '/app/',
      { exe: '/bin/sh', name: 'sh', sessionLeader: true },
    );
    ctx.kernel(dt, { op: 'exec', containerStart: true, facts: execve(c, [sh, shimOf(c), SYSTEMD]) });
    dt += rng.uniform(0.5, 2) * SECOND;
    const pip = proc('/usr/local/bin/pip', 'install --no-cache-dir -r requirements-runtime.txt', '/app/', {
      exe: 'pip',
    });
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [pip, sh, shimOf(c), SYSTEMD]) });
    dt += rng.uniform(10, 40) * SECOND;
  } else {
    ctx.kernel(dt, { op: 'exec', containerStart: true, facts: execve(c, [python, shimOf(c), SYSTEMD]) });
  }
  const span = rng.logNormal(12 * MINUTE, 0.5);
  const n = rng.between(6, 30);
  for (let i = 0; i < n; i++) {
    const to: Peer = rng.chance(0.6) ? servicePeer(cluster, 'postgres.data') : s3(rng, cluster.region);
    ctx.kernel(dt + rng.uniform(0, span), {
      op: 'connect',
      facts: connected(rng, c, [python, shimOf(c), SYSTEMD], to),
    });
  }
}

function backup(ctx: EpisodeContext, cluster: Cluster): void {
  const { rng } = ctx;
  const day = new Date(ctx.startMs + ctx.now / 1e6).toISOString().slice(0, 10);
  const sh = proc(
    '/usr/bin/dash',
    `-c pg_dump -h postgres.data.svc -U backup -Fc shop > /backup/shop-${day}.dump && rsync -az /backup/ backup@10.0.8.20:/srv/pg/ && aws s3 cp /backup/shop-${day}.dump s3://acme-shop-db-backups/${day}/`,
    '/',
    { exe: 'sh', sessionLeader: true },
  );
  const c = cronPod(
    ctx,
    'data',
    'pg-backup',
    { repository: 'docker.io/library/postgres', tag: '16.2' },
    USERS.postgres,
    sh,
  );
  let dt = 3 * SECOND;
  ctx.kernel(dt, { op: 'exec', containerStart: true, facts: execve(c, [sh, shimOf(c), SYSTEMD]) });
  const pgDump = proc('/usr/lib/postgresql/16/bin/pg_dump', `-h postgres.data.svc -U backup -Fc shop`, '/', {
    exe: 'pg_dump',
  });
  ctx.kernel(dt + 20 * MS, { op: 'exec', facts: execve(c, chain(c, pgDump)) });
  dt += rng.uniform(2, 8) * MINUTE;
  const rsync = proc('/usr/bin/rsync', '-az /backup/ backup@10.0.8.20:/srv/pg/', '/', { exe: 'rsync' });
  ctx.kernel(dt, { op: 'exec', facts: execve(c, chain(c, rsync)) });
  const ssh = proc(
    '/usr/bin/ssh',
    '-l backup 10.0.8.20 rsync --server -logDtprze.iLsfxCIvu . /srv/pg/',
    '/',
    { exe: 'ssh' },
  );
  ctx.kernel(dt + 15 * MS, { op: 'exec', facts: execve(c, chain(c, ssh, rsync)) });
  ctx.kernel(dt + 25 * MS, {
    op: 'connect',
    facts: connected(rng, c, chain(c, ssh, rsync), { ip: '10.0.8.20', port: 22 }),
  });
  dt += rng.uniform(1, 4) * MINUTE;
  const aws = proc(
    '/usr/local/aws-cli/v2/current/dist/aws',
    `s3 cp /backup/shop-${day}.dump s3://acme-shop-db-backups/${day}/`,
    '/',
    { exe: 'aws' },
  );
  ctx.kernel(dt, { op: 'exec', facts: execve(c, chain(c, aws)) });
  // Multipart upload: several parallel connections to S3.
  for (let i = rng.between(2, 8); i > 0; i--) {
    ctx.kernel(dt + rng.uniform(0.2, 30) * SECOND, {
      op: 'connect',
      facts: connected(rng, c, chain(c, aws), s3(rng, cluster.region)),
    });
  }
}

function report(ctx: EpisodeContext, cluster: Cluster): void {
  const { rng } = ctx;
  const python = proc('/usr/local/bin/python3.12', 'build_reports.py --period daily', '/srv/reports/', {
    exe: 'python3',
    sessionLeader: true,
  });
  const c = cronPod(
    ctx,
    'batch',
    'report-builder',
    { repository: 'registry.gitlab.acme-shop.example/data/report-builder', tag: '1.8.2' },
    USERS.app,
    python,
  );
  ctx.kernel(3 * SECOND, {
    op: 'exec',
    containerStart: true,
    facts: execve(c, [python, shimOf(c), SYSTEMD]),
  });
  for (let i = rng.between(3, 10); i > 0; i--) {
    const to = rng.chance(0.8)
      ? servicePeer(cluster, 'postgres.data')
      : { ip: `167.89.${rng.between(0, 127)}.${rng.between(1, 254)}`, port: 587, name: 'smtp.sendgrid.net' };
    ctx.kernel(rng.uniform(5, 240) * SECOND, {
      op: 'connect',
      facts: connected(rng, c, [python, shimOf(c), SYSTEMD], to),
    });
  }
}

export const nightlyBatch: BackgroundActivity = {
  name: 'nightly-batch',
  intensity: { perHour: 4 },
  rhythm: NIGHT,
  available: (cluster) => cluster.podsOf('postgres').length > 0,
  episode(ctx) {
    const kind = ctx.rng.weighted<'etl' | 'backup' | 'report'>([
      ['etl', 0.55],
      ['backup', 0.25],
      ['report', 0.2],
    ]);
    if (kind === 'etl') etl(ctx, ctx.cluster);
    else if (kind === 'backup') backup(ctx, ctx.cluster);
    else report(ctx, ctx.cluster);
  },
};
