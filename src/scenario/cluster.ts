/**
 * A synthetic EKS-like cluster, the same for the same seed: nodes in three
 * zones, namespaces with realistic workloads (web shops, payments, databases,
 * monitoring, CI runners, cluster add-ons), pods named as Kubernetes names them,
 * containers with 12-hex ids and real-world images, and the people who operate it.
 */
import type { ScenarioRandom } from './random.ts';
import type {
  ClusterNode,
  Container,
  Pod,
  Proc,
  Role,
  UserIdentity,
  Workload,
  WorkloadKind,
} from './model.ts';
import { BASH, BUSYBOX_SH, proc, ROOT, type ShellSpec } from './model.ts';
import { MS_PER_DAY, NS_PER_MS } from './time.ts';

/** Kubernetes' name-suffix alphabet (no vowels, no confusable digits). */
export const K8S_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface Service {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly port: number;
}

export interface Admin {
  /** Name as the API server sees it (OIDC e-mail). */
  readonly user: string;
}

export interface Cluster {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  readonly nodes: readonly ClusterNode[];
  readonly workloads: readonly Workload[];
  readonly admins: readonly Admin[];
  readonly services: ReadonlyMap<string, Service>;
  /** The Falco instance that receives the API server's audit webhook. */
  readonly auditHost: string;
  readonly apiServer: { readonly ip: string; readonly port: number };
  /** Epoch ms of the scenario start (containers started before it). */
  readonly startMs: number;
  byRole(role: Role): readonly Workload[];
  /** Every pod of workloads with this role. */
  podsOf(role: Role): readonly Pod[];
  /** A free pod IP on `node` (AWS VPC CNI: pods take addresses from the node's subnet). */
  allocatePodIp(rng: ScenarioRandom, node: ClusterNode): string;
}

interface ContainerTemplate {
  readonly name: string;
  readonly repository: string;
  readonly tags: readonly string[];
  readonly user: UserIdentity;
  readonly privileged?: boolean;
  readonly init: Proc;
  readonly shell?: ShellSpec;
}

interface WorkloadTemplate {
  readonly namespace: string;
  readonly name: string;
  readonly kind: Exclude<WorkloadKind, 'Job'>;
  readonly role: Role;
  readonly replicas: readonly [number, number];
  readonly serviceAccount: string;
  readonly container: ContainerTemplate;
  /** Probability that this cluster runs the workload at all. */
  readonly present?: number;
}

const user = (name: string, uid: number, group = name, gid = uid): UserIdentity => ({
  name,
  uid,
  gid,
  group,
});

export const USERS = {
  root: ROOT,
  wwwData: user('www-data', 33),
  ingress: user('www-data', 101, 'www-data', 82),
  node: user('node', 1000),
  app: user('app', 10001),
  postgres: user('postgres', 999),
  redis: user('redis', 999),
  nobody: user('nobody', 65534, 'nogroup'),
  nonroot: user('nonroot', 65532),
  jovyan: user('jovyan', 1000, 'users', 100),
  grafana: user('grafana', 472, 'root', 0),
  argocd: user('argocd', 999),
  gitlabRunner: user('gitlab-runner', 100, 'gitlab-runner', 101),
  spring: user('spring', 1001),
} as const;

const REGISTRY = 'registry.gitlab.acme-shop.example';

function templates(region: string): WorkloadTemplate[] {
  const ecr = `602401143452.dkr.ecr.${region}.amazonaws.com`;
  return [
    {
      namespace: 'ingress-nginx',
      name: 'ingress-nginx-controller',
      kind: 'Deployment',
      role: 'ingress',
      replicas: [2, 3],
      serviceAccount: 'ingress-nginx',
      container: {
        name: 'controller',
        shell: { ...BASH, exepath: '/bin/bash' },
        repository: 'registry.k8s.io/ingress-nginx/controller',
        tags: ['v1.10.0', 'v1.9.6'],
        user: USERS.ingress,
        init: proc(
          '/nginx-ingress-controller',
          '--publish-service=ingress-nginx/ingress-nginx-controller --election-id=ingress-nginx-leader --controller-class=k8s.io/ingress-nginx --ingress-class=nginx --configmap=ingress-nginx/ingress-nginx-controller',
          '/etc/nginx/',
          { sessionLeader: true },
        ),
      },
    },
    {
      namespace: 'shop',
      name: 'storefront',
      kind: 'Deployment',
      role: 'web-static',
      replicas: [2, 4],
      serviceAccount: 'default',
      container: {
        name: 'nginx',
        shell: BASH,
        repository: 'docker.io/library/nginx',
        tags: ['1.25.4', '1.25.3'],
        user: USERS.root,
        init: proc('/usr/sbin/nginx', '-g daemon off;', '/', { exe: 'nginx', sessionLeader: true }),
      },
    },
    {
      namespace: 'shop',
      name: 'cms',
      kind: 'Deployment',
      role: 'web-php',
      replicas: [2, 2],
      serviceAccount: 'cms',
      container: {
        name: 'wordpress',
        shell: BASH,
        repository: 'docker.io/library/wordpress',
        tags: ['6.4.3-php8.2-fpm', '6.4.2-php8.2-fpm'],
        user: USERS.root,
        init: proc('/usr/local/sbin/php-fpm', '', '/var/www/html/', { exe: 'php-fpm', sessionLeader: true }),
      },
    },
    {
      namespace: 'shop',
      name: 'catalog-api',
      kind: 'Deployment',
      role: 'web-python',
      replicas: [2, 4],
      serviceAccount: 'catalog-api',
      container: {
        name: 'catalog-api',
        shell: BASH,
        repository: `${REGISTRY}/shop/catalog-api`,
        tags: ['1.14.2', '1.14.3'],
        // No USER in its Dockerfile: runs as root, like many Python images.
        user: USERS.root,
        // A shebang script: comm is the script, the executable is the interpreter.
        init: {
          name: 'gunicorn',
          exe: '/usr/local/bin/gunicorn',
          exepath: '/usr/local/bin/python3.12',
          args: '--bind 0.0.0.0:8000 --workers 4 --access-logfile - catalog.wsgi:application',
          cwd: '/app/',
          sessionLeader: true,
        },
      },
    },
    {
      namespace: 'shop',
      name: 'checkout',
      kind: 'Deployment',
      role: 'web-node',
      replicas: [2, 3],
      serviceAccount: 'checkout',
      container: {
        name: 'checkout',
        shell: BASH,
        repository: `${REGISTRY}/shop/checkout`,
        tags: ['2.3.0', '2.3.1'],
        user: USERS.node,
        init: proc('/usr/local/bin/node', '--enable-source-maps dist/server.js', '/usr/src/app/', {
          exe: 'node',
          sessionLeader: true,
        }),
      },
    },
    {
      namespace: 'payments',
      name: 'payments-api',
      kind: 'Deployment',
      role: 'api-java',
      replicas: [2, 3],
      serviceAccount: 'payments-api',
      container: {
        name: 'payments-api',
        shell: BASH,
        repository: `${REGISTRY}/payments/payments-api`,
        tags: ['5.2.1', '5.2.0'],
        user: USERS.spring,
        init: proc(
          '/opt/java/openjdk/bin/java',
          '-XX:MaxRAMPercentage=75.0 -jar /app/payments-api.jar',
          '/app/',
          {
            exe: 'java',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'payments',
      name: 'fraud-scorer',
      kind: 'Deployment',
      role: 'ml-api',
      replicas: [1, 2],
      serviceAccount: 'fraud-scorer',
      container: {
        name: 'fraud-scorer',
        shell: BASH,
        repository: `${REGISTRY}/payments/fraud-scorer`,
        tags: ['0.9.4'],
        user: USERS.app,
        init: proc(
          '/usr/local/bin/python3.11',
          '-m uvicorn fraud.app:app --host 0.0.0.0 --port 8080',
          '/srv/',
          {
            exe: 'python3',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'data',
      name: 'postgres',
      kind: 'StatefulSet',
      role: 'postgres',
      replicas: [1, 2],
      serviceAccount: 'postgres',
      container: {
        name: 'postgres',
        shell: BASH,
        repository: 'docker.io/library/postgres',
        tags: ['16.2', '16.1'],
        user: USERS.postgres,
        init: proc(
          '/usr/lib/postgresql/16/bin/postgres',
          '-c config_file=/etc/postgresql/postgresql.conf',
          '/var/lib/postgresql/data/',
          {
            exe: 'postgres',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'data',
      name: 'redis',
      kind: 'StatefulSet',
      role: 'redis',
      replicas: [1, 1],
      serviceAccount: 'default',
      container: {
        name: 'redis',
        shell: BASH,
        repository: 'docker.io/library/redis',
        tags: ['7.2.4'],
        user: USERS.redis,
        init: proc('/usr/local/bin/redis-server', '*:6379', '/data/', {
          exe: 'redis-server',
          sessionLeader: true,
        }),
      },
    },
    {
      namespace: 'ml',
      name: 'jupyter',
      kind: 'Deployment',
      role: 'notebook',
      replicas: [1, 1],
      serviceAccount: 'default',
      present: 0.8,
      container: {
        name: 'notebook',
        shell: BASH,
        repository: 'quay.io/jupyter/scipy-notebook',
        tags: ['2024-03-04', '2024-02-13'],
        user: USERS.jovyan,
        init: {
          name: 'jupyter-lab',
          exe: '/opt/conda/bin/jupyter-lab',
          exepath: '/opt/conda/bin/python3.11',
          args: '--ServerApp.ip=0.0.0.0 --ServerApp.port=8888 --ServerApp.token= --no-browser',
          cwd: '/home/jovyan/',
          sessionLeader: true,
        },
      },
    },
    {
      namespace: 'monitoring',
      name: 'prometheus-k8s',
      kind: 'StatefulSet',
      role: 'prometheus',
      replicas: [1, 2],
      serviceAccount: 'prometheus-k8s',
      container: {
        name: 'prometheus',
        shell: BUSYBOX_SH,
        repository: 'quay.io/prometheus/prometheus',
        tags: ['v2.50.1'],
        user: USERS.nobody,
        init: proc(
          '/bin/prometheus',
          '--config.file=/etc/prometheus/config_out/prometheus.env.yaml --storage.tsdb.path=/prometheus --storage.tsdb.retention.time=15d --web.enable-lifecycle',
          '/prometheus/',
          { exe: '/bin/prometheus', sessionLeader: true },
        ),
      },
    },
    {
      namespace: 'monitoring',
      name: 'node-exporter',
      kind: 'DaemonSet',
      role: 'node-exporter',
      replicas: [1, 1],
      serviceAccount: 'node-exporter',
      container: {
        name: 'node-exporter',
        shell: BUSYBOX_SH,
        repository: 'quay.io/prometheus/node-exporter',
        tags: ['v1.7.0'],
        user: USERS.nobody,
        init: proc(
          '/bin/node_exporter',
          '--path.procfs=/host/proc --path.sysfs=/host/sys --path.rootfs=/host/root --web.listen-address=127.0.0.1:9100',
          '/',
          { exe: '/bin/node_exporter', sessionLeader: true },
        ),
      },
    },
    {
      namespace: 'monitoring',
      name: 'grafana',
      kind: 'Deployment',
      role: 'grafana',
      replicas: [1, 1],
      serviceAccount: 'grafana',
      container: {
        name: 'grafana',
        shell: BUSYBOX_SH,
        repository: 'docker.io/grafana/grafana',
        tags: ['10.3.3'],
        user: USERS.grafana,
        init: proc(
          '/usr/share/grafana/bin/grafana',
          'server --homepath=/usr/share/grafana --config=/etc/grafana/grafana.ini',
          '/usr/share/grafana/',
          {
            exe: 'grafana',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'logging',
      name: 'fluentd',
      kind: 'DaemonSet',
      role: 'log-shipper',
      replicas: [1, 1],
      serviceAccount: 'fluentd',
      container: {
        name: 'fluentd',
        shell: BASH,
        repository: 'docker.io/fluent/fluentd-kubernetes-daemonset',
        tags: ['v1.16.3-debian-elasticsearch8-1.0'],
        user: USERS.root,
        // Shipped privileged with the host's / mounted at /host: a common, risky chart setting.
        privileged: true,
        init: {
          name: 'fluentd',
          exe: '/usr/local/bundle/bin/fluentd',
          exepath: '/usr/local/bin/ruby',
          args: '-c /fluentd/etc/fluent.conf -p /fluentd/plugins --gemfile /fluentd/Gemfile',
          cwd: '/home/fluent/',
          sessionLeader: true,
        },
      },
    },
    {
      namespace: 'argocd',
      name: 'argocd-application-controller',
      kind: 'StatefulSet',
      role: 'argocd-controller',
      replicas: [1, 1],
      serviceAccount: 'argocd-application-controller',
      container: {
        name: 'argocd-application-controller',
        shell: BASH,
        repository: 'quay.io/argoproj/argocd',
        tags: ['v2.10.2'],
        user: USERS.argocd,
        init: proc(
          '/usr/local/bin/argocd-application-controller',
          '--status-processors 20 --operation-processors 10 --loglevel info',
          '/home/argocd/',
          {
            exe: 'argocd-application-controller',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'argocd',
      name: 'argocd-repo-server',
      kind: 'Deployment',
      role: 'argocd-repo',
      replicas: [1, 2],
      serviceAccount: 'argocd-repo-server',
      container: {
        name: 'argocd-repo-server',
        shell: BASH,
        repository: 'quay.io/argoproj/argocd',
        tags: ['v2.10.2'],
        user: USERS.argocd,
        init: proc('/usr/local/bin/argocd-repo-server', '--loglevel info', '/home/argocd/', {
          exe: 'argocd-repo-server',
          sessionLeader: true,
        }),
      },
    },
    {
      namespace: 'cert-manager',
      name: 'cert-manager',
      kind: 'Deployment',
      role: 'cert-manager',
      replicas: [1, 1],
      serviceAccount: 'cert-manager',
      container: {
        name: 'cert-manager-controller',
        repository: 'quay.io/jetstack/cert-manager-controller',
        tags: ['v1.14.4'],
        user: USERS.nonroot,
        init: proc(
          '/app/cmd/controller/controller',
          '--v=2 --cluster-resource-namespace=cert-manager --leader-election-namespace=kube-system',
          '/',
          {
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'external-secrets',
      name: 'external-secrets',
      kind: 'Deployment',
      role: 'external-secrets',
      replicas: [1, 1],
      serviceAccount: 'external-secrets',
      present: 0.85,
      container: {
        name: 'external-secrets',
        repository: 'ghcr.io/external-secrets/external-secrets',
        tags: ['v0.9.13'],
        user: USERS.nonroot,
        init: proc('/bin/external-secrets', '--concurrent=1 --metrics-addr=:8080', '/', {
          sessionLeader: true,
        }),
      },
    },
    {
      namespace: 'ci',
      name: 'gitlab-runner',
      kind: 'Deployment',
      role: 'gitlab-runner',
      replicas: [1, 1],
      serviceAccount: 'gitlab-runner',
      container: {
        name: 'gitlab-runner',
        shell: BUSYBOX_SH,
        repository: 'registry.gitlab.com/gitlab-org/gitlab-runner',
        tags: ['alpine-v16.9.1'],
        user: USERS.gitlabRunner,
        init: proc(
          '/usr/bin/gitlab-runner',
          'run --user=gitlab-runner --working-directory=/home/gitlab-runner',
          '/home/gitlab-runner/',
          {
            exe: 'gitlab-runner',
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'kube-system',
      name: 'aws-node',
      kind: 'DaemonSet',
      role: 'aws-node',
      replicas: [1, 1],
      serviceAccount: 'aws-node',
      container: {
        name: 'aws-node',
        repository: `${ecr}/amazon-k8s-cni`,
        tags: ['v1.16.4-eksbuild.2'],
        user: USERS.root,
        init: proc('/app/aws-k8s-agent', '', '/app/', { sessionLeader: true }),
      },
    },
    {
      namespace: 'kube-system',
      name: 'ebs-csi-controller',
      kind: 'Deployment',
      role: 'ebs-csi-controller',
      replicas: [2, 2],
      serviceAccount: 'ebs-csi-controller-sa',
      container: {
        name: 'ebs-plugin',
        repository: `${ecr}/eks/aws-ebs-csi-driver`,
        tags: ['v1.28.0'],
        user: USERS.root,
        init: proc(
          '/bin/aws-ebs-csi-driver',
          'controller --endpoint=unix:///var/lib/csi/sockets/pluginproxy/csi.sock --k8s-tag-cluster-id=prod --logging-format=text --v=2',
          '/',
          {
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'kube-system',
      name: 'cluster-autoscaler',
      kind: 'Deployment',
      role: 'cluster-autoscaler',
      replicas: [1, 1],
      serviceAccount: 'cluster-autoscaler',
      container: {
        name: 'cluster-autoscaler',
        repository: 'registry.k8s.io/autoscaling/cluster-autoscaler',
        tags: ['v1.29.0'],
        user: USERS.nonroot,
        init: proc(
          '/cluster-autoscaler',
          '--cloud-provider=aws --expander=least-waste --balance-similar-node-groups --skip-nodes-with-system-pods=false',
          '/',
          {
            sessionLeader: true,
          },
        ),
      },
    },
    {
      namespace: 'kube-system',
      name: 'coredns',
      kind: 'Deployment',
      role: 'coredns',
      replicas: [2, 2],
      serviceAccount: 'coredns',
      container: {
        name: 'coredns',
        repository: `${ecr}/eks/coredns`,
        tags: ['v1.11.1-eksbuild.6'],
        user: USERS.root,
        init: proc('/coredns', '-conf /etc/coredns/Corefile', '/', { sessionLeader: true }),
      },
    },
  ];
}

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-west-2', 'ap-southeast-2'] as const;
const ZONES = ['a', 'b', 'c'] as const;
const CLUSTER_NAMES = ['prod-eu', 'shop-prod', 'prod-main', 'platform-prod'] as const;
const ADMIN_NAMES = [
  'alice.martin',
  'bob.nguyen',
  'carla.schmidt',
  'deepak.rao',
  'emma.larsen',
  'farid.haddad',
  'grace.kim',
  'hugo.moreau',
] as const;

/** Internal services the workloads talk to (ClusterIP, port). */
const SERVICES: readonly (readonly [string, string, number])[] = [
  ['postgres', 'data', 5432],
  ['redis', 'data', 6379],
  ['catalog-api', 'shop', 8000],
  ['checkout', 'shop', 3000],
  ['payments-api', 'payments', 8080],
  ['fraud-scorer', 'payments', 8080],
  ['prometheus-k8s', 'monitoring', 9090],
  ['jaeger-agent', 'monitoring', 6831],
  ['argocd-repo-server', 'argocd', 8081],
];

export function podTemplateHash(rng: ScenarioRandom): string {
  return rng.chars(K8S_SUFFIX_ALPHABET, rng.between(9, 10));
}

export function podSuffix(rng: ScenarioRandom): string {
  return rng.chars(K8S_SUFFIX_ALPHABET, 5);
}

export function buildCluster(rng: ScenarioRandom, startMs: number): Cluster {
  const region = rng.pick(REGIONS);
  const usedIps = new Set<string>();
  const ipIn = (subnet: string): string => {
    for (;;) {
      const ip = `${subnet}.${rng.between(10, 250)}`;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
  };

  const nodes: ClusterNode[] = [];
  const nodeCount = rng.between(3, 6);
  for (let i = 0; i < nodeCount; i++) {
    const zone = ZONES[i % ZONES.length] as string;
    const subnet = `10.0.${1 + (i % ZONES.length)}`;
    const ip = ipIn(subnet);
    nodes.push({
      name: `ip-${ip.replaceAll('.', '-')}.${region}.compute.internal`,
      ip,
      zone: `${region}${zone}`,
      subnet,
    });
  }

  const containerStart = (maxAgeDays: number): number => {
    const ageMs = Math.floor(rng.uniform(2 * 3600_000, maxAgeDays * MS_PER_DAY));
    return (startMs - ageMs) * NS_PER_MS + rng.int(NS_PER_MS);
  };

  const workloads: Workload[] = [];
  for (const t of templates(region)) {
    if (t.present !== undefined && !rng.chance(t.present)) continue;
    const pods: Pod[] = [];
    const workload: Workload = {
      namespace: t.namespace,
      name: t.name,
      kind: t.kind,
      role: t.role,
      serviceAccount: t.serviceAccount,
      pods,
    };
    const count = t.kind === 'DaemonSet' ? nodes.length : rng.between(t.replicas[0], t.replicas[1]);
    const hash = podTemplateHash(rng);
    const tag = rng.pick(t.container.tags);
    for (let i = 0; i < count; i++) {
      const node = t.kind === 'DaemonSet' ? (nodes[i] as ClusterNode) : rng.pick(nodes);
      const name =
        t.kind === 'StatefulSet'
          ? `${t.name}-${i}`
          : t.kind === 'DaemonSet'
            ? `${t.name}-${podSuffix(rng)}`
            : `${t.name}-${hash}-${podSuffix(rng)}`;
      const containers: Container[] = [];
      const pod: Pod = {
        name,
        namespace: t.namespace,
        node,
        ip: ipIn(node.subnet),
        workload,
        sandboxId: rng.hex(64),
        containers,
      };
      containers.push({
        id: rng.hex(12),
        name: t.container.name,
        image: { repository: t.container.repository, tag },
        privileged: t.container.privileged ?? false,
        startNs: containerStart(t.kind === 'DaemonSet' ? 40 : 12),
        user: t.container.user,
        init: t.container.init,
        ...(t.container.shell !== undefined && { shell: t.container.shell }),
        pod,
      });
      pods.push(pod);
    }
    workloads.push(workload);
  }

  const services = new Map<string, Service>();
  for (const [name, namespace, port] of SERVICES) {
    services.set(`${name}.${namespace}`, {
      name,
      namespace,
      port,
      ip: `172.20.${rng.between(1, 254)}.${rng.between(1, 254)}`,
    });
  }

  const admins = rng
    .shuffle(ADMIN_NAMES)
    .slice(0, rng.between(3, 5))
    .map((n) => ({ user: `${n}@acme-shop.example` }));

  const roleIndex = new Map<Role, Workload[]>();
  for (const w of workloads) {
    const list = roleIndex.get(w.role) ?? [];
    list.push(w);
    roleIndex.set(w.role, list);
  }
  const podIndex = new Map<Role, Pod[]>();
  for (const [role, list] of roleIndex)
    podIndex.set(
      role,
      list.flatMap((w) => w.pods),
    );

  return {
    name: rng.pick(CLUSTER_NAMES),
    region,
    accountId: String(rng.between(100000000000, 999999999999)),
    nodes,
    workloads,
    admins,
    services,
    auditHost: (nodes[0] as ClusterNode).name,
    apiServer: { ip: '172.20.0.1', port: 443 },
    startMs,
    byRole: (role) => roleIndex.get(role) ?? [],
    podsOf: (role) => podIndex.get(role) ?? [],
    allocatePodIp: (r, node) => `${node.subnet}.${r.between(10, 250)}`,
  };
}

/** The pod's first (main) container. */
export function mainContainer(pod: Pod): Container {
  return pod.containers[0] as Container;
}
