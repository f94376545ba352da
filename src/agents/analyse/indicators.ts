/**
 * Evidence the offline analyst reads from an event's fields, beyond the rule
 * that fired: what a command line, file or API user says about intent
 * (`/dev/tcp/…`, `/etc/shadow`, `stratum+tcp://`, a service-account token),
 * and known-benign patterns (package managers in build namespaces, node
 * exporters reading /host/proc, controllers reading their Secrets, WAL
 * archiving) that explain an alert away. Every field is attacker-controlled:
 * these are regexes over bounded strings, never evaluation.
 */
import type { EventWire } from '../contracts.ts';

const MAX_SCAN = 4096;

/** A string field of the event (first element of a list), bounded to what the regexes scan; '' when absent. */
export function field(ev: EventWire, key: string): string {
  const v = ev.fields[key];
  const s = typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
  return s.length > MAX_SCAN ? s.slice(0, MAX_SCAN) : s;
}

export function cmdline(ev: EventWire): string {
  return field(ev, 'proc.cmdline');
}

/** The remote end of a connection, from `fd.name` ("a:p->b:q") or fd.rip/fd.rport. */
export function remotePeer(ev: EventWire): { ip: string; port: number } | undefined {
  const rip = field(ev, 'fd.rip');
  const rport = ev.fields['fd.rport'];
  if (rip !== '' && (typeof rport === 'number' || typeof rport === 'string')) {
    const port = Number(rport);
    if (Number.isInteger(port)) return { ip: rip, port };
  }
  const m = /->\[?([0-9a-fA-F.:]+?)\]?:(\d{1,5})$/.exec(field(ev, 'fd.name'));
  if (m === null) return undefined;
  return { ip: m[1] as string, port: Number(m[2]) };
}

/** Private, loopback, link-local, CGNAT and cluster addresses: not "the internet". */
export function isInternalIp(ip: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(ip);
  if (m === null) return ip === '::1' || /^f[cd]|^fe80/i.test(ip);
  const a = Number(m[1]);
  const b = Number(m[2]);
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/** `system:serviceaccount:<ns>:<name>` → { ns, name }. */
export function serviceAccountOf(user: string): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return m === null ? undefined : { namespace: m[1] as string, name: m[2] as string };
}

/** Namespaces where builds legitimately install packages, compile and run binaries, and run docker-in-docker. */
export const BUILD_NAMESPACES = new Set([
  'ci',
  'gitlab-runner',
  'gitlab',
  'jenkins',
  'tekton-pipelines',
  'tekton-builds',
  'buildkite',
  'actions-runner-system',
  'arc-runners',
  'drone',
  'concourse',
]);

/** Namespaces of controllers whose job is to read Secrets and talk to the API server. */
export const CONTROLLER_NAMESPACES = new Set([
  'kube-system',
  'argocd',
  'flux-system',
  'cert-manager',
  'external-secrets',
  'sealed-secrets',
  'vault',
  'istio-system',
  'linkerd',
  'ingress-nginx',
  'monitoring',
  'kyverno',
  'gatekeeper-system',
  'falco',
  'falconer',
]);

/** Programs that run on purpose against the API server or the metadata service when an attacker drives them. */
const CLIENT_TOOLS =
  /^(curl|wget|kubectl|crictl|nc|ncat|socat|python[0-9.]*|perl|ruby|php|sh|bash|dash|ash|zsh|busybox|\.k|kc)$/;

const MINER_NAMES =
  /^(xmrig|xmr-stak|kinsing|kdevtmpfsi|minerd|cpuminer|ccminer|nbminer|lolminer|t-rex|phoenixminer|ethminer)$/i;

const SERVER_NAMES =
  /^(php-fpm|nginx|httpd|apache2|java|node|python[0-9.]*|postgres|mysqld|redis-server|sshd|kworker|kthreadd|systemd)$/;

function namespaceOf(ev: EventWire): string {
  return ev.workload.namespace ?? field(ev, 'k8s.ns.name');
}

function apiUser(ev: EventWire): string {
  return field(ev, 'ka.user.name');
}

export interface Indicator {
  readonly id: string;
  readonly weight: number;
  readonly techniques: readonly string[];
  /** What it means, for the explanation. */
  readonly meaning: string;
  /** Which field holds the evidence (quoted in the explanation). */
  readonly evidenceField: string;
  test(ev: EventWire): boolean;
}

const ind = (
  id: string,
  weight: number,
  techniques: readonly string[],
  meaning: string,
  evidenceField: string,
  test: (ev: EventWire) => boolean,
): Indicator => ({ id, weight, techniques, meaning, evidenceField, test });

/** Script interpreters, as Falco's `interpreted_procs` list names them (python3.11 included). */
const INTERPRETER = /^(python[0-9.]*|node|nodejs|ruby[0-9.]*|perl[0-9.]*|php[0-9.]*|lua[0-9.]*)$/;

const RE = {
  shadow: /\/etc\/(g?shadow|master\.passwd)\b/,
  saToken: /serviceaccount\/token|authorization:\s*bearer\s/i,
  imdsCreds:
    /169\.254\.169\.254\/.*(security-credentials|api\/token)|metadata\.google\.internal|\/metadata\/identity\/oauth2/,
  devTcp: /\/dev\/(tcp|udp)\/[^/\s]+\/\d+/,
  fileToSocket:
    /\b(cat|tar|dd|gzip|base64)\b[^|;&]*>\s*\/dev\/(tcp|udp)\/|<\s*\S+\.(gz|tgz|tar|zip|sql|dump|bak)\b[^|;&]*\/dev\/(tcp|udp)\//,
  dbDump: /\b(pg_dump|pg_dumpall|mysqldump|mariadb-dump|mongodump|mongoexport)\b/,
  encodedShell: /(base64[\s,]+(-d|--decode)|\{base64,-d\})[^|]*\|\s*\{?(ba|da|z)?sh\b/,
  kubectlExec: /\b(kubectl|\.k|kc)\b\s.*\b(exec|attach|debug|cp)\b/,
  kubectlSecrets: /\b(kubectl|\.k|kc)\b\s.*\bget\s+secrets?\b/,
  kubectlCanI: /\bauth\s+can-i\b/,
  nsenterHost: /\bnsenter\b.*(-t\s*1\b|--target[= ]1\b)/,
  cgroupEscape: /mount\s+-t\s+cgroup|release_agent|notify_on_release/,
  hostDisk: /\b(debugfs|mount|fdisk)\b.*\/dev\/(nvme\d|sd[a-z]|xvd[a-z]|vd[a-z])/,
  hostCreds:
    /^\/host\/(etc\/(shadow|kubernetes\/pki|sudoers)|var\/lib\/kubelet|root\/\.ssh|home\/[^/]+\/\.ssh)/,
  chrootHost: /\bchroot\s+\/host\b/,
  minerCmd: /stratum\+(tcp|ssl|tls):\/\/|--donate-level|\bcryptonight\b|\brandomx\b|--coin[= ]monero/i,
  downloadToShell: /\b(curl|wget)\b[^|]*\|\s*(ba|da)?sh\b/,
  hiddenTmp: /^\/(tmp|var\/tmp|dev\/shm)\/(\.|.*\/\.)/,
  dropLocation: /^\/(tmp|var\/tmp|dev\/shm)\//,
  // The data itself (table files, WAL, dumps, keys), not the logs or configs next to it.
  sensitiveData:
    /^\/(var\/lib\/postgresql\/(\d+\/)?(data\/)?(base|global|pg_wal|pg_xact)\/|var\/lib\/mysql\/[^/]+\/[^/]+\.(ibd|frm|MYD)$|var\/lib\/mongodb\/.+\.wt$|var\/lib\/etcd\/member\/|var\/lib\/redis\/.+\.(rdb|aof)$|etc\/kubernetes\/pki\/|etc\/ssl\/private\/|root\/\.ssh\/)/,
};

const isRule = (ev: EventWire, ...rules: string[]): boolean => rules.includes(ev.rule);

/** Per-event indicators, strongest first. */
export const INDICATORS: readonly Indicator[] = [
  ind(
    'miner-command',
    0.85,
    ['T1496'],
    'a cryptocurrency miner command line (Stratum pool, miner options)',
    'proc.cmdline',
    (ev) => RE.minerCmd.test(cmdline(ev)),
  ),
  ind('miner-binary', 0.75, ['T1496'], 'a process named like a known cryptominer', 'proc.name', (ev) =>
    MINER_NAMES.test(field(ev, 'proc.name')),
  ),
  ind(
    'file-to-socket',
    0.65,
    ['T1048', 'T1095'],
    'a file streamed straight into a raw TCP/UDP socket (/dev/tcp)',
    'proc.cmdline',
    (ev) => RE.fileToSocket.test(cmdline(ev)),
  ),
  ind(
    'dev-tcp',
    0.65,
    ['T1059.004', 'T1095'],
    "bash's /dev/tcp redirection to a remote address (reverse shell or raw transfer)",
    'proc.cmdline',
    (ev) => RE.devTcp.test(cmdline(ev)),
  ),
  ind('nsenter-host', 0.7, ['T1611'], "nsenter into PID 1's namespaces (the host)", 'proc.cmdline', (ev) =>
    RE.nsenterHost.test(cmdline(ev)),
  ),
  ind(
    'cgroup-escape',
    0.6,
    ['T1611'],
    'a cgroup mounted or release_agent touched (cgroup escape)',
    'proc.cmdline',
    (ev) => RE.cgroupEscape.test(cmdline(ev)) || RE.cgroupEscape.test(field(ev, 'fd.name')),
  ),
  ind('host-disk', 0.6, ['T1611'], "the host's block device opened from a container", 'proc.cmdline', (ev) =>
    RE.hostDisk.test(cmdline(ev)),
  ),
  ind(
    'host-credentials',
    0.6,
    ['T1611', 'T1552.001'],
    'host credentials (shadow, kubelet config, PKI, SSH keys) read through a host mount',
    'fd.name',
    (ev) => RE.hostCreds.test(field(ev, 'fd.name')) || RE.hostCreds.test(cmdline(ev).replace(/^\S+\s+/, '')),
  ),
  ind('chroot-host', 0.6, ['T1611'], 'chroot into the host filesystem', 'proc.cmdline', (ev) =>
    RE.chrootHost.test(cmdline(ev)),
  ),
  ind(
    'shadow-read',
    0.6,
    ['T1003.008'],
    'the shadow password file read',
    'fd.name',
    (ev) =>
      RE.shadow.test(field(ev, 'fd.name')) ||
      /\b(cat|less|more|head|tail|cp|base64)\s+\S*\/etc\/shadow\b/.test(cmdline(ev)),
  ),
  ind(
    'sa-token',
    0.6,
    ['T1528'],
    "the pod's service-account token read or replayed as a bearer token",
    'proc.cmdline',
    (ev) => RE.saToken.test(cmdline(ev)) || RE.saToken.test(field(ev, 'fd.name')),
  ),
  ind(
    'imds-credentials',
    0.65,
    ['T1552.005'],
    'cloud credentials requested from the instance metadata service',
    'proc.cmdline',
    (ev) => RE.imdsCreds.test(cmdline(ev)),
  ),
  ind(
    'encoded-shell',
    0.55,
    ['T1027', 'T1140', 'T1059.004'],
    'an encoded command decoded and piped into a shell',
    'proc.cmdline',
    (ev) => RE.encodedShell.test(cmdline(ev)),
  ),
  ind(
    'download-to-shell',
    0.6,
    ['T1105', 'T1059.004'],
    'a script downloaded and piped straight into a shell',
    'proc.cmdline',
    (ev) => RE.downloadToShell.test(cmdline(ev)),
  ),
  ind(
    'kubectl-secrets',
    0.55,
    ['T1552.007'],
    'Secrets listed or read with kubectl from inside a workload',
    'proc.cmdline',
    (ev) => RE.kubectlSecrets.test(cmdline(ev)),
  ),
  ind(
    'kubectl-exec',
    0.45,
    ['T1609'],
    'kubectl exec/cp into another pod from inside a workload',
    'proc.cmdline',
    (ev) => RE.kubectlExec.test(cmdline(ev)) && !BUILD_NAMESPACES.has(namespaceOf(ev)),
  ),
  ind(
    'kubectl-can-i',
    0.35,
    ['T1613'],
    'the workload probing its own RBAC permissions',
    'proc.cmdline',
    (ev) => RE.kubectlCanI.test(cmdline(ev)),
  ),
  ind(
    'db-dump',
    0.35,
    ['T1005'],
    'a database dump',
    'proc.cmdline',
    (ev) => RE.dbDump.test(cmdline(ev)) && !BUILD_NAMESPACES.has(namespaceOf(ev)),
  ),
  ind(
    'sensitive-data-out',
    0.7,
    ['T1048', 'T1005'],
    'database or key files streamed out through the Kubernetes API',
    'fd.name',
    (ev) =>
      isRule(ev, 'Exfiltrating Artifacts via Kubernetes Control Plane') &&
      RE.sensitiveData.test(field(ev, 'fd.name')),
  ),
  ind(
    'hidden-dir-exec',
    0.4,
    ['T1036'],
    'a program run from a hidden directory under /tmp, /var/tmp or /dev/shm',
    'proc.exepath',
    (ev) => RE.hiddenTmp.test(field(ev, 'proc.exepath')),
  ),
  ind(
    'masquerade',
    0.55,
    ['T1036'],
    'a server-like process name running from a temporary directory',
    'proc.exepath',
    (ev) => SERVER_NAMES.test(field(ev, 'proc.name')) && RE.dropLocation.test(field(ev, 'proc.exepath')),
  ),
  ind('authorized-keys', 0.55, ['T1098.004'], 'an SSH authorized_keys file written', 'fd.name', (ev) =>
    /authorized_keys2?$/.test(field(ev, 'fd.name')),
  ),
  ind(
    'app-sa-secret-read',
    0.45,
    ['T1552.007'],
    "an application's service account (not a controller) read a Secret",
    'ka.user.name',
    (ev) => {
      if (!isRule(ev, 'K8s Secret Get Successfully')) return false;
      const sa = serviceAccountOf(apiUser(ev));
      return (
        sa !== undefined && !CONTROLLER_NAMESPACES.has(sa.namespace) && !BUILD_NAMESPACES.has(sa.namespace)
      );
    },
  ),
  ind(
    'app-sa-pod-exec',
    0.4,
    ['T1609'],
    'an application service account (not a person) exec-ed into a pod',
    'ka.user.name',
    (ev) => {
      if (!isRule(ev, 'Attach/Exec Pod')) return false;
      const sa = serviceAccountOf(apiUser(ev));
      return sa !== undefined && !CONTROLLER_NAMESPACES.has(sa.namespace);
    },
  ),
  ind(
    'app-sa-privileged-pod',
    0.45,
    ['T1610'],
    'an application service account created a privileged or host-mounting pod',
    'ka.user.name',
    (ev) => {
      if (
        !isRule(
          ev,
          'Create Privileged Pod',
          'Create Sensitive Mount Pod',
          'Create HostNetwork Pod',
          'Pod Created in Kube Namespace',
        )
      )
        return false;
      const sa = serviceAccountOf(apiUser(ev));
      return (
        sa !== undefined && !CONTROLLER_NAMESPACES.has(sa.namespace) && !BUILD_NAMESPACES.has(sa.namespace)
      );
    },
  ),
  ind(
    'tool-to-imds',
    0.4,
    ['T1552.005'],
    'a shell tool or interpreter (not a cloud agent) contacted the metadata service',
    'proc.name',
    (ev) =>
      isRule(
        ev,
        'Contact EC2 Instance Metadata Service From Container',
        'Contact cloud metadata service from container',
      ) && CLIENT_TOOLS.test(field(ev, 'proc.name')),
  ),
  ind(
    'tool-to-api',
    0.3,
    ['T1613'],
    'a shell tool or kubectl (not a controller) contacted the API server',
    'proc.name',
    (ev) => isRule(ev, 'Contact K8S API Server From Container') && CLIENT_TOOLS.test(field(ev, 'proc.name')),
  ),
  ind(
    'interpreter-public-odd-port',
    0.35,
    ['T1071'],
    'an interpreter connected to a public address on a non-web port',
    'fd.name',
    (ev) => {
      // The same connection fires both rules; the gate may forward either alert.
      const interpreted =
        isRule(ev, 'Interpreted procs outbound network activity') ||
        (isRule(ev, 'Network Connection outside Local Subnet') && INTERPRETER.test(field(ev, 'proc.name')));
      if (!interpreted) return false;
      const peer = remotePeer(ev);
      return peer !== undefined && !isInternalIp(peer.ip) && ![80, 443, 53].includes(peer.port);
    },
  ),
];

/** A person (not a service account or system component) opened an interactive session in the pod. */
export function personSession(ev: EventWire): boolean {
  if (!isRule(ev, 'Attach/Exec Pod', 'EphemeralContainers Created')) return false;
  const user = apiUser(ev);
  return user !== '' && !user.startsWith('system:');
}

export interface BenignPattern {
  readonly id: string;
  readonly reason: string;
  test(ev: EventWire): boolean;
}

const BUILD_RULES = new Set([
  'Launch Package Management Process in Container',
  'Drop and execute new binary in container',
  'Container Drift Detected (chmod)',
  'Container Drift Detected (open+create)',
  'Search Private Keys or Passwords',
  'Launch Privileged Container',
  'Mount Launched in Privileged Container',
  'Kubernetes Client Tool Launched in Container',
  'Decoding Payload in Container',
  'Launch Ingress Remote File Copy Tools in Container',
  'Write below binary dir',
  'Container Run as Root User',
  'Contact K8S API Server From Container',
  'Create Privileged Pod',
  'Create HostNetwork Pod',
  'K8s Namespace Created',
  'K8s Deployment Created',
  'K8s Service Created',
  'K8s ConfigMap Created',
  'K8s Secret Created',
  'Interpreted procs outbound network activity',
]);

const HOST_METRIC_PATHS = /^\/host\/(proc|sys)\/|^\/host\/root\/etc\/os-release$|^\/host\/var\/log\//;
const DB_ARCHIVING = /\b(wal-g|wal-e|pgbackrest|barman-wal-archive|pg_receivewal|archive_command)\b/;

/** Known-benign patterns: an event matching one does not count as evidence (strong indicators still do). */
export const BENIGN_PATTERNS: readonly BenignPattern[] = [
  {
    id: 'build-activity',
    reason:
      'build/CI activity in a build namespace (package installs, compiled test binaries, docker-in-docker, deploy tooling)',
    test: (ev) => {
      if (!BUILD_RULES.has(ev.rule)) return false;
      const sa = serviceAccountOf(apiUser(ev));
      return (
        BUILD_NAMESPACES.has(namespaceOf(ev)) || (sa !== undefined && BUILD_NAMESPACES.has(sa.namespace))
      );
    },
  },
  {
    id: 'host-metrics',
    reason: 'a node agent reading host metrics under /host/proc or /host/sys',
    test: (ev) =>
      isRule(ev, 'Container Access to Host Sensitive Paths') && HOST_METRIC_PATHS.test(field(ev, 'fd.name')),
  },
  {
    id: 'cloud-agent-imds',
    reason: "a cloud agent's own call to the instance metadata service",
    test: (ev) =>
      isRule(
        ev,
        'Contact EC2 Instance Metadata Service From Container',
        'Contact cloud metadata service from container',
      ) &&
      !CLIENT_TOOLS.test(field(ev, 'proc.name')) &&
      !RE.imdsCreds.test(cmdline(ev)),
  },
  {
    id: 'controller-api',
    reason: "a controller's own calls to the API server",
    test: (ev) =>
      isRule(ev, 'Contact K8S API Server From Container') && !CLIENT_TOOLS.test(field(ev, 'proc.name')),
  },
  {
    id: 'controller-secret-read',
    reason: 'a controller (GitOps, certificates, secret sync) reading the Secrets it manages',
    test: (ev) => {
      if (!isRule(ev, 'K8s Secret Get Successfully')) return false;
      const sa = serviceAccountOf(apiUser(ev));
      return sa !== undefined && CONTROLLER_NAMESPACES.has(sa.namespace);
    },
  },
  {
    id: 'db-archiving',
    reason: 'the database archiving its write-ahead log (archive_command)',
    test: (ev) =>
      isRule(ev, 'DB program spawned process', 'Run shell untrusted') &&
      DB_ARCHIVING.test(cmdline(ev)) &&
      !RE.devTcp.test(cmdline(ev)),
  },
  {
    id: 'local-download',
    reason: 'a download from a local or in-cluster address (health checks, metrics scrapes)',
    test: (ev) =>
      isRule(ev, 'Launch Ingress Remote File Copy Tools in Container') &&
      /https?:\/\/(localhost|127\.\d+\.\d+\.\d+|\[::1\]|[a-z0-9.-]+\.svc(\.cluster\.local)?)(:\d+)?(\/|\s|$)/.test(
        cmdline(ev),
      ) &&
      !/https?:\/\/(?!(localhost|127\.|\[::1\]|[a-z0-9.-]+\.svc))/.test(cmdline(ev)),
  },
  {
    id: 'internal-traffic',
    reason: 'service-to-service traffic inside the cluster network',
    test: (ev) => {
      if (
        !isRule(
          ev,
          'Interpreted procs outbound network activity',
          'Interpreted procs inbound network activity',
          'Unexpected UDP Traffic',
        )
      )
        return false;
      const peer = remotePeer(ev);
      return peer !== undefined && isInternalIp(peer.ip);
    },
  },
];
