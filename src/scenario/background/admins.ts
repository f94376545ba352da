/**
 * People at work (office hours only, local time = UTC): platform engineers and
 * developers `kubectl exec` into pods to look around, install a debugging tool,
 * test a connection, read the environment; `kubectl cp` files out; attach a
 * debug container. Every session is an audit event plus what the shell does.
 */
import type { Cluster } from '../cluster.ts';
import { mainContainer } from '../cluster.ts';
import { execve, opened } from '../events.ts';
import type { Container, Pod, Proc, Role } from '../model.ts';
import { BUSYBOX_SH, proc, ROOT } from '../model.ts';
import { PTS0, RUNC, shimOf, SYSTEMD } from '../facts.ts';
import type { ScenarioRandom } from '../random.ts';
import type { BackgroundActivity, EpisodeContext } from './activity.ts';
import { OFFICE } from './activity.ts';
import { auditRequest } from './platform.ts';
import { MINUTE, pickPod, SECOND, shellProc } from './helpers.ts';

const TARGETS: readonly (readonly [Role, number])[] = [
  ['web-static', 2],
  ['web-php', 1.5],
  ['web-python', 2],
  ['web-node', 2],
  ['api-java', 2],
  ['ml-api', 1],
  ['postgres', 2],
  ['redis', 1],
  ['notebook', 0.5],
  ['prometheus', 0.5],
  ['grafana', 0.5],
  ['argocd-repo', 0.5],
  ['ingress', 0.5],
];

function isBusybox(c: Container): boolean {
  return c.shell?.exepath === BUSYBOX_SH.exepath;
}

/** An applet of busybox or a binary of a Debian-like image. */
function tool(c: Container, name: string, debianPath: string, args: string, cwd: string): Proc {
  return isBusybox(c)
    ? proc('/bin/busybox', args, cwd, { exe: name, name })
    : proc(debianPath, args, cwd, { exe: name });
}

function execAudit(cluster: Cluster, admin: string, pod: Pod, command: string | null, subresource = 'exec') {
  return auditRequest(cluster, {
    'ka.user.name': admin,
    'ka.target.name': pod.name,
    'ka.target.namespace': pod.namespace,
    'ka.target.subresource': subresource,
    'ka.uri.param[command]': command,
  });
}

/** What an engineer types in the shell: each command is a child of the interactive shell. */
function sessionCommands(rng: ScenarioRandom, c: Container, cwd: string): Proc[] {
  const cmds: Proc[] = [];
  const busybox = isBusybox(c);
  if (rng.chance(0.2))
    cmds.push(tool(c, rng.pick(['id', 'whoami']), rng.pick(['/usr/bin/id', '/usr/bin/whoami']), '', cwd));
  if (!busybox && rng.chance(0.25) && c.user.uid === 0) {
    cmds.push(proc('/usr/bin/apt-get', 'update', cwd, { exe: 'apt-get' }));
    const pkgs = rng.pick([
      'procps',
      'curl',
      'dnsutils netcat-openbsd',
      'iputils-ping',
      'vim-tiny less',
      'postgresql-client',
    ]);
    cmds.push(
      proc('/usr/bin/apt-get', `install -y --no-install-recommends ${pkgs}`, cwd, { exe: 'apt-get' }),
    );
  }
  if (rng.chance(0.3)) {
    const peer = rng.pick([
      'postgres.data.svc.cluster.local 5432',
      'redis.data.svc.cluster.local 6379',
      'payments-api.payments.svc.cluster.local 8080',
      'catalog-api.shop.svc.cluster.local 8000',
    ]);
    cmds.push(
      rng.chance(0.6)
        ? tool(c, 'nc', '/usr/bin/nc.openbsd', `-zv -w 3 ${peer}`, cwd)
        : proc('/usr/bin/dig', `+short ${peer.split(' ')[0] as string}`, cwd, { exe: 'dig' }),
    );
  }
  if (rng.chance(0.12)) cmds.push(proc('/usr/bin/cat', '/proc/1/environ', cwd, { exe: 'cat' }));
  if (rng.chance(0.08)) {
    cmds.push(
      c.pod.workload.role === 'api-java'
        ? proc('/usr/bin/curl', '-s -o /tmp/heap.hprof http://localhost:8081/actuator/heapdump', cwd, {
            exe: 'curl',
          })
        : tool(c, 'wget', '/usr/bin/wget', '-q -O /tmp/metrics.txt http://localhost:9090/metrics', cwd),
    );
  }
  if (rng.chance(0.05)) cmds.push(proc('/usr/bin/base64', '-d /tmp/config.b64', cwd, { exe: 'base64' }));
  if (rng.chance(0.03)) cmds.push(proc('/usr/bin/cat', '/etc/pam.d/common-auth', cwd, { exe: 'cat' }));
  return cmds;
}

function shellSession(ctx: EpisodeContext, admin: string, pod: Pod): void {
  const { rng, cluster } = ctx;
  const c = mainContainer(pod);
  const shell = shellProc(c, '', { sessionLeader: true });
  ctx.emit(0, 'auditExec', execAudit(cluster, admin, pod, shell.name));
  const shellChain = [shell, RUNC, shimOf(c), SYSTEMD];
  let dt = rng.uniform(0.2, 0.8) * SECOND;
  ctx.kernel(dt, { op: 'exec', facts: execve(c, shellChain, { tty: PTS0 }) });
  const length = Math.min(45 * MINUTE, rng.logNormal(4 * MINUTE, 0.8));
  for (const cmd of sessionCommands(rng, c, shell.cwd)) {
    dt += rng.uniform(0.05, 0.35) * length;
    const chain = [cmd, ...shellChain];
    ctx.kernel(dt, { op: 'exec', facts: execve(c, chain, { tty: PTS0 }) });
    if (cmd.name === 'cat') {
      ctx.kernel(dt + rng.uniform(0.2, 2) * 1e6, {
        op: 'open',
        facts: opened(c, chain, cmd.args, { tty: PTS0 }),
      });
    }
  }
}

/** kubectl cp: exec of `tar cf - <dir>` without a terminal; tar reads the files. */
function copySession(ctx: EpisodeContext, admin: string, pod: Pod): void {
  const { rng, cluster } = ctx;
  const c = mainContainer(pod);
  const dir = rng
    .pick(['/var/log/nginx', '/tmp', `${c.init.cwd}logs`, `${c.init.cwd}config`])
    .replace('//', '/');
  ctx.emit(0, 'auditExec', execAudit(cluster, admin, pod, 'tar'));
  const tar = proc('/usr/bin/tar', `cf - -C ${dir} .`, c.init.cwd, { exe: 'tar', sessionLeader: true });
  const chain = [tar, RUNC, shimOf(c), SYSTEMD];
  const t0 = rng.uniform(0.2, 0.6) * SECOND;
  ctx.kernel(t0, { op: 'exec', facts: execve(c, chain) });
  const files = rng.between(1, 4);
  for (let i = 0; i < files; i++) {
    const file = `${dir}/${rng.pick(['app.log', 'error.log', 'access.log', 'dump.hprof', 'settings.yaml'])}`;
    ctx.kernel(t0 + (i + 1) * rng.uniform(1, 30) * 1e6, { op: 'open', facts: opened(c, chain, file) });
  }
}

/** kubectl debug: an ephemeral netshoot container in the pod, a zsh in it, network tools. */
function debugSession(ctx: EpisodeContext, admin: string, pod: Pod): void {
  const { rng, cluster } = ctx;
  const name = `debugger-${rng.chars('bcdfghjklmnpqrstvwxz2456789', 5)}`;
  const image = rng.chance(0.7)
    ? { repository: 'docker.io/nicolaka/netshoot', tag: 'v0.12' }
    : { repository: 'docker.io/library/busybox', tag: '1.36' };
  ctx.emit(
    0,
    'auditEphemeralContainer',
    auditRequest(cluster, {
      'ka.user.name': admin,
      'ka.target.name': pod.name,
      'ka.target.namespace': pod.namespace,
      'jevt.value[/requestObject/ephemeralContainers/0/name]': name,
      'jevt.value[/requestObject/ephemeralContainers/0/image]': `${image.repository.replace('docker.io/library/', '').replace('docker.io/', '')}:${image.tag}`,
    }),
  );
  const netshoot = image.repository.endsWith('netshoot');
  const shell = netshoot
    ? proc('/bin/zsh', '', '/root/', { exe: 'zsh', sessionLeader: true })
    : proc('/bin/busybox', '', '/', { exe: 'sh', name: 'sh', sessionLeader: true });
  const startNs = ctx.startMs * 1e6 + ctx.now + 2e9;
  const c: Container = {
    id: rng.hex(12),
    name,
    image,
    privileged: false,
    startNs,
    user: ROOT,
    init: shell,
    ...(netshoot ? {} : { shell: BUSYBOX_SH }),
    pod,
  };
  const chain = [shell, shimOf(c), SYSTEMD];
  // The debug container's first process is the shell, with the terminal attached.
  ctx.kernel(2 * SECOND, { op: 'exec', containerStart: true, facts: execve(c, chain, { tty: PTS0 }) });
  if (!netshoot) return;
  let dt = 2 * SECOND;
  for (let i = rng.between(1, 3); i > 0; i--) {
    dt += rng.uniform(10, 120) * SECOND;
    const cmd = rng.pick([
      proc('/usr/bin/tcpdump', '-i eth0 -nn -c 200 port 5432', '/root/', { exe: 'tcpdump' }),
      proc('/usr/bin/dig', 'payments-api.payments.svc.cluster.local', '/root/', { exe: 'dig' }),
      proc('/usr/bin/nc', '-zv redis.data.svc.cluster.local 6379', '/root/', { exe: 'nc' }),
    ]);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [cmd, ...chain], { tty: PTS0 }) });
  }
}

export const adminSessions: BackgroundActivity = {
  name: 'admin-sessions',
  intensity: { perHour: 40 },
  rhythm: OFFICE,
  available: (cluster) => cluster.admins.length > 0,
  episode(ctx) {
    const { rng, cluster } = ctx;
    const admin = rng.pick(cluster.admins).user;
    const pod = pickPod(
      rng,
      cluster,
      TARGETS.filter(([r]) => cluster.podsOf(r).some((p) => mainContainer(p).shell !== undefined)),
    );
    if (pod === undefined) return;
    const kind = rng.weighted<'shell' | 'copy' | 'debug'>([
      ['shell', 0.8],
      ['copy', 0.12],
      ['debug', 0.08],
    ]);
    if (kind === 'shell') shellSession(ctx, admin, pod);
    else if (kind === 'copy') copySession(ctx, admin, pod);
    else debugSession(ctx, admin, pod);
  },
};
