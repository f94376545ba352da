/**
 * Cluster machinery: controllers talking to the API server, controllers
 * reading Secrets (k8s_audit), node agents reading the host's /proc and logs
 * through host mounts, AWS agents asking the instance metadata service for
 * credentials, and rollouts that start new containers.
 */
import type { Cluster } from '../cluster.ts';
import { mainContainer, podSuffix, podTemplateHash } from '../cluster.ts';
import { IMDS } from '../destinations.ts';
import { connected, execve, opened } from '../events.ts';
import type { AuditFacts } from '../facts.ts';
import { initChain } from '../facts.ts';
import type { Container, Pod, Role } from '../model.ts';
import type { ScenarioRandom } from '../random.ts';
import { NS_PER_MS } from '../time.ts';
import type { BackgroundActivity } from './activity.ts';
import { DEPLOYS, FLAT } from './activity.ts';
import { apiServerPeer, hasAny, MS, pickContainer } from './helpers.ts';

const API_CLIENTS: readonly (readonly [Role, number])[] = [
  ['argocd-controller', 4],
  ['cert-manager', 2],
  ['external-secrets', 1.5],
  ['gitlab-runner', 2],
  ['ingress', 2],
  // prometheus and kube-system are trusted by k8s_containers and never fire.
  ['prometheus', 1],
  ['aws-node', 1],
];

/** Controllers (re)open connections to kubernetes.default.svc: watches expire, leader election renews. */
export const k8sApiClients: BackgroundActivity = {
  name: 'k8s-api-clients',
  intensity: { share: 0.08 },
  rhythm: FLAT,
  available: (cluster) => hasAny(cluster, ['argocd-controller', 'cert-manager', 'gitlab-runner', 'ingress']),
  episode(ctx) {
    const c = pickContainer(ctx.rng, ctx.cluster, API_CLIENTS) as Container;
    ctx.kernel(0, { op: 'connect', facts: connected(ctx.rng, c, initChain(c), apiServerPeer(ctx.cluster)) });
  },
};

/** The audit fields every k8s_audit rule of the catalogue may ask for, for one request. */
export function auditRequest(
  cluster: Cluster,
  fields: Record<string, string | number | boolean | null | readonly string[]>,
): AuditFacts {
  return {
    kind: 'audit',
    hostname: cluster.auditHost,
    fields: { 'ka.response.code': '200', 'ka.auth.decision': 'allow', ...fields },
  };
}

function rbacReason(binding: string, role: string, subject: string, clusterWide = true): string {
  const kind = clusterWide ? 'ClusterRoleBinding' : 'RoleBinding';
  return `RBAC: allowed by ${kind} "${binding}" of ClusterRole "${role}" to ServiceAccount "${subject}"`;
}

const SECRET_READERS: readonly (readonly [string, number])[] = [
  ['argocd', 4],
  ['cert-manager', 3],
  ['external-secrets', 2],
  ['kube-controller-manager', 1],
];

const SECRETS: Record<string, readonly (readonly [string, string])[]> = {
  argocd: [
    ['argocd', 'argocd-secret'],
    ['argocd', 'repo-gitlab-acme-shop'],
    ['argocd', 'cluster-prod-eu-1'],
  ],
  'cert-manager': [
    ['shop', 'storefront-tls'],
    ['shop', 'cms-tls'],
    ['payments', 'payments-api-tls'],
    ['cert-manager', 'letsencrypt-prod-account-key'],
  ],
  'external-secrets': [
    ['payments', 'stripe-api-key'],
    ['data', 'postgres-credentials'],
    ['shop', 'catalog-api-db'],
    ['ci', 'gitlab-runner-secret'],
  ],
  'kube-controller-manager': [
    ['kube-system', 'bootstrap-token-8f2k1p'],
    ['monitoring', 'prometheus-k8s-token'],
  ],
};

/** Controllers GET the Secrets they reconcile; K8s Secret Get Successfully fires for every one. */
export const secretReads: BackgroundActivity = {
  name: 'secret-reads',
  intensity: { share: 0.06 },
  rhythm: FLAT,
  available: () => true,
  episode(ctx) {
    const { rng, cluster } = ctx;
    const reader = rng.weighted(SECRET_READERS);
    const [namespace, secret] = rng.pick(SECRETS[reader] as readonly (readonly [string, string])[]);
    const [saNamespace, saName] =
      reader === 'argocd' ? ['argocd', 'argocd-application-controller'] : [reader, reader];
    const user =
      reader === 'kube-controller-manager'
        ? 'system:kube-controller-manager'
        : `system:serviceaccount:${saNamespace}:${saName}`;
    const reason =
      reader === 'kube-controller-manager'
        ? 'RBAC: allowed by ClusterRoleBinding "system:kube-controller-manager" of ClusterRole "system:kube-controller-manager" to User "system:kube-controller-manager"'
        : rbacReason(`${reader}-controller`, `${reader}-controller`, `${saName}/${saNamespace}`);
    ctx.emit(
      0,
      'auditSecretGet',
      auditRequest(cluster, {
        'ka.user.name': user,
        'ka.target.name': secret,
        'ka.target.namespace': namespace,
        'ka.auth.reason': reason,
      }),
    );
  },
};

const NODE_EXPORTER_FILES = [
  '/host/proc/stat',
  '/host/proc/meminfo',
  '/host/proc/loadavg',
  '/host/proc/diskstats',
  '/host/proc/net/dev',
  '/host/proc/net/netstat',
  '/host/proc/pressure/cpu',
  '/host/sys/class/net/eth0/statistics/rx_bytes',
  '/host/sys/fs/cgroup/cpu.stat',
  '/host/root/etc/os-release',
];

/**
 * node-exporter reads the host's /proc and /sys through /host mounts on every
 * scrape; fluentd opens new container log files under /host/var/log.
 */
export const hostPathReads: BackgroundActivity = {
  name: 'host-path-reads',
  intensity: { share: 0.14 },
  rhythm: FLAT,
  available: (cluster) => hasAny(cluster, ['node-exporter', 'log-shipper']),
  episode(ctx) {
    const { rng, cluster } = ctx;
    const c = pickContainer(rng, cluster, [
      ['node-exporter', 4],
      ['log-shipper', 1],
    ]) as Container;
    if (c.pod.workload.role === 'node-exporter') {
      const n = rng.between(1, 4);
      for (let i = 0; i < n; i++) {
        ctx.kernel(i * rng.uniform(0.05, 2) * MS, {
          op: 'open',
          facts: opened(c, initChain(c), rng.pick(NODE_EXPORTER_FILES)),
        });
      }
      return;
    }
    const all = cluster.workloads.flatMap((w) => w.pods).filter((p) => p.node === c.pod.node);
    const pod = all.length > 0 ? rng.pick(all) : c.pod;
    const target = mainContainer(pod);
    const path = rng.chance(0.5)
      ? `/host/var/log/containers/${pod.name}_${pod.namespace}_${target.name}-${pod.sandboxId}.log`
      : `/host/var/log/pods/${pod.namespace}_${pod.name}_${pod.sandboxId.slice(0, 8)}-${pod.sandboxId.slice(8, 12)}-4${pod.sandboxId.slice(13, 16)}-a${pod.sandboxId.slice(17, 20)}-${pod.sandboxId.slice(20, 32)}/${target.name}/0.log`;
    ctx.kernel(0, { op: 'open', facts: opened(c, initChain(c), path) });
  },
};

/** AWS agents refresh instance credentials from IMDS (kube-system is exempt from the cloud-metadata rule, not the EC2 one). */
export const metadataClients: BackgroundActivity = {
  name: 'metadata-clients',
  intensity: { share: 0.03 },
  rhythm: FLAT,
  available: (cluster) => hasAny(cluster, ['aws-node', 'ebs-csi-controller', 'cluster-autoscaler']),
  episode(ctx) {
    const c = pickContainer(ctx.rng, ctx.cluster, [
      ['aws-node', 3],
      ['ebs-csi-controller', 2],
      ['cluster-autoscaler', 1],
      // fluentd's ec2 metadata filter looks up the instance id once in a while.
      ['log-shipper', 0.3],
    ]) as Container;
    // IMDSv2: PUT a session token, then GET the credentials.
    const n = ctx.rng.chance(0.6) ? 2 : 1;
    for (let i = 0; i < n; i++) {
      ctx.kernel(i * ctx.rng.uniform(1, 8) * MS, {
        op: 'connect',
        facts: connected(ctx.rng, c, initChain(c), IMDS),
      });
    }
  },
};

const ROLLOUT_ROLES: readonly (readonly [Role, number])[] = [
  ['web-static', 2],
  ['web-php', 1],
  ['web-python', 2],
  ['web-node', 2],
  ['api-java', 2],
  ['ml-api', 1],
  ['log-shipper', 0.3],
  ['grafana', 0.3],
];

/** A rolled-out replacement of `pod`: new ReplicaSet hash, new sandbox and container id, just started. */
export function replacementPod(
  ctx: { rng: ScenarioRandom; startMs: number },
  pod: Pod,
  startRelNs: number,
  hash: string,
): Pod {
  const { rng } = ctx;
  const w = pod.workload;
  const name = w.kind === 'DaemonSet' ? `${w.name}-${podSuffix(rng)}` : `${w.name}-${hash}-${podSuffix(rng)}`;
  const containers: Container[] = [];
  const next: Pod = {
    ...pod,
    name,
    sandboxId: rng.hex(64),
    ip: `${pod.node.subnet}.${rng.between(10, 250)}`,
    containers,
  };
  const old = mainContainer(pod);
  containers.push({ ...old, id: rng.hex(12), startNs: ctx.startMs * NS_PER_MS + startRelNs, pod: next });
  return next;
}

/** Argo CD syncs a new version: the workload's pods are replaced one by one; root images trip Container Run as Root User. */
export const rollouts: BackgroundActivity = {
  name: 'rollouts',
  intensity: { perHour: 5 },
  rhythm: DEPLOYS,
  available: (cluster) =>
    hasAny(
      cluster,
      ROLLOUT_ROLES.map(([r]) => r),
    ),
  episode(ctx) {
    const { rng, cluster } = ctx;
    const present = ROLLOUT_ROLES.filter(([r]) => cluster.podsOf(r).length > 0);
    const workload = rng.pick(cluster.byRole(rng.weighted(present)));
    const hash = podTemplateHash(rng);
    let dt = 0;
    for (const pod of workload.pods) {
      dt += rng.uniform(5, 40) * 1e9;
      const fresh = replacementPod(ctx, pod, ctx.now + dt, hash);
      const c = mainContainer(fresh);
      ctx.kernel(dt, { op: 'exec', containerStart: true, facts: execve(c, initChain(c)) });
    }
  },
};
