/**
 * Which of the catalogue's rules Falco fires for a kernel event: each rule's
 * condition approximated with the macros and lists of the real rule files
 * (shell_binaries, package_mgmt_binaries, web_server_binaries, rfc_1918_addresses,
 * k8s_containers…). The generator describes what processes do; this decides what
 * Falco says about it, so benign and malicious behaviour trip the same rules for
 * the same reasons, several at once when Falco would.
 */
import type { RuleId } from './catalog.ts';
import type { SyscallFacts } from './facts.ts';
import { ALL_CAPS } from './facts.ts';
import { cmdline, type Proc } from './model.ts';

export type KernelOp = 'exec' | 'open' | 'connect' | 'accept' | 'dup' | 'chmod' | 'setns' | 'unshare';

export interface KernelEvent {
  readonly op: KernelOp;
  readonly facts: SyscallFacts;
  /** exec: the container's first process (vpid 1). */
  readonly containerStart?: boolean;
  /** exec: the executable is in the container's upper layer (written after start). */
  readonly upperLayer?: boolean;
  /** open: read or write access. */
  readonly access?: 'read' | 'write';
  /** open: creates an executable file (evt.is_open_exec). */
  readonly createsExecutable?: boolean;
}

const set = (...items: string[]): ReadonlySet<string> => new Set(items);

const SHELLS = set('ash', 'bash', 'csh', 'ksh', 'sh', 'tcsh', 'zsh', 'dash');
const CONTAINER_ENTRYPOINT_PARENTS = set(
  'runc:[0:PARENT]',
  'runc:[1:CHILD]',
  'runc',
  'docker-runc',
  'exe',
  'docker-runc-cur',
  'containerd-shim',
  'systemd',
  'crio',
  'conmon',
);
/** protected_shell_spawning_binaries: http, db, nosql and mail servers and a few daemons. */
const PROTECTED_SHELL_SPAWNERS = set(
  'nginx',
  'httpd',
  'httpd-foregroun',
  'lighttpd',
  'apache',
  'apache2',
  'mysqld',
  'postgres',
  'sqlplus',
  'couchdb',
  'memcached',
  'redis-server',
  'rabbitmq-server',
  'mongod',
  'fluentd',
  'flanneld',
  'splunkd',
  'consul',
  'smbd',
  'runsv',
  'PM2',
);
/** Parents Run shell untrusted never blames (shells, gitlab, cron, known daemons). */
const SHELL_SPAWN_ALLOWED_PARENTS = set(
  ...SHELLS,
  'gitlab-shell',
  'gitlab-mon',
  'gitlab-runner-b',
  'git',
  'anacron',
  'cron',
  'crond',
  'crontab',
  'logrotate',
  'calico-node',
);
const WEB_SERVERS = set(
  'nginx',
  'httpd',
  'httpd-foregroun',
  'apache',
  'apache2',
  'lighttpd',
  'php-fpm',
  'php',
  'php-cgi',
  'php7',
  'php8',
  'gunicorn',
  'uwsgi',
);
const SUSPICIOUS_WEB_CHILDREN = set(
  'curl',
  'wget',
  'nc',
  'ncat',
  'netcat',
  'socat',
  'python',
  'python3',
  'perl',
  'ruby',
  'nmap',
  'id',
  'whoami',
  'uname',
  'base64',
);
const DB_SERVERS = set('mysqld', 'postgres', 'sqlplus');
const PACKAGE_MANAGERS = set(
  'dpkg',
  'dpkg-preconfigu',
  'dpkg-reconfigur',
  'dpkg-divert',
  'apt',
  'apt-get',
  'aptitude',
  'apt-cache',
  'apt-key',
  'rpm',
  'yum',
  'dnf',
  'microdnf',
  'update-alternat',
  'gem',
  'npm',
  'pip',
  'pip3',
  'conda',
  'apk',
  'snapd',
);
const NETWORK_TOOLS = set(
  'nc',
  'ncat',
  'netcat',
  'nmap',
  'dig',
  'tcpdump',
  'tshark',
  'ngrep',
  'telnet',
  'mitmproxy',
  'socat',
  'zmap',
);
const REMOTE_COPY_TOOLS = set('rsync', 'scp', 'sftp', 'dcp');
const K8S_CLIENTS = set('docker', 'kubectl', 'crictl');
const RECON = set('w', 'whoami', 'id', 'who', 'uname');
const MINERS = set(
  'xmrig',
  'xmr-stak',
  'minerd',
  'minergate',
  'cpuminer',
  'ccminer',
  'ethminer',
  'cgminer',
  'bfgminer',
  'sgminer',
  'claymore',
  'nbminer',
  't-rex',
  'gminer',
  'lolminer',
  'phoenixminer',
  'teamredminer',
  'nanominer',
  'bminer',
  'wildrig',
  'srbminer',
);
const INTERPRETERS = set(
  'lua',
  'node',
  'perl',
  'perl5',
  'perl6',
  'php',
  'python',
  'python2',
  'python3',
  'ruby',
  'tcl',
);
const GREP = set('grep', 'egrep', 'fgrep');
/** Programs Read sensitive file untrusted trusts (user/login management, sudo, package managers, cron, shells, HIDS…). */
const SENSITIVE_READ_TRUSTED = set(
  ...SHELLS,
  ...PACKAGE_MANAGERS,
  'sudo',
  'su',
  'login',
  'passwd',
  'chpasswd',
  'useradd',
  'usermod',
  'unix_chkpwd',
  'cron',
  'crond',
  'sshd',
  'ps',
  'iptables',
  'psql',
  'pg_dumpall',
  'pg_ctl',
  'systemd',
  'aide',
  'osqueryd',
);
const SENSITIVE_FILES = set('/etc/shadow', '/etc/sudoers', '/etc/pam.conf', '/etc/security/pwquality.conf');
const CONTAINER_RUNTIMES = set(
  'containerd',
  'containerd-shim',
  'dockerd',
  'docker',
  'runc',
  'crio',
  'cri-o',
  'conmon',
  'podman',
);
/** k8s_containers: images trusted to talk to the API server (plus all of kube-system). */
const K8S_API_TRUSTED_IMAGES = set(
  'quay.io/prometheus/prometheus',
  'quay.io/prometheus-operator/prometheus-operator',
  'quay.io/jetstack/cert-manager-cainjector',
  'docker.io/kiwigrid/k8s-sidecar',
  'quay.io/kiwigrid/k8s-sidecar',
  'ghcr.io/kiwigrid/k8s-sidecar',
  'prom/prometheus',
);
const PRIVILEGED_TRUSTED_IMAGES = set(
  'falcosecurity/falco',
  'docker.io/falcosecurity/falco',
  'public.ecr.aws/falcosecurity/falco',
  'docker.io/calico/node',
  'quay.io/calico/node',
  'registry.k8s.io/kube-proxy',
);
/** namespace_scope_network_only_subnet, as this cluster's operators set it: data and payments must not talk outside. */
export const SUBNET_ONLY_NAMESPACES = set('data', 'payments');
/** expected_udp_ports: DNS, OpenVPN, L2TP, statsd, NTP and connectivity probes. */
const EXPECTED_UDP_PORTS = new Set([
  53, 1194, 1197, 1198, 8080, 9201, 500, 1701, 4500, 10000, 8125, 123, 0, 9, 80, 3306,
]);
const MINER_PORTS = new Set([
  25, 3333, 3334, 3335, 3336, 3357, 4444, 5555, 5556, 5588, 5730, 6099, 6666, 7777, 7778, 8000, 8001, 8008,
  8080, 8118, 8333, 8888, 8899, 9332, 9999, 14433, 14444, 45560, 45700,
]);
const MINER_DOMAINS = set(
  'pool.supportxmr.com',
  'xmr-eu1.nanopool.org',
  'xmr-eu2.nanopool.org',
  'pool.minexmr.com',
  'xmr.crypto-pool.fr',
  'rx.unmineable.com',
  'mine.xmrpool.net',
  'pool.monero.hashvault.pro',
);
const SSH_NON_STANDARD_PORTS = new Set([80, 8080, 88, 443, 8443, 53, 4444]);
export const K8S_API_SERVER_NAME = 'kubernetes.default.svc.cluster.local';
const IMDS_IP = '169.254.169.254';

/** fd.net in rfc_1918_addresses (10/8, 172.16/12, 192.168/16) or loopback. */
export function isPrivateAddress(ip: string): boolean {
  if (ip.startsWith('10.') || ip.startsWith('192.168.') || ip.startsWith('127.')) return true;
  if (ip.startsWith('172.')) {
    const second = Number(ip.split('.')[1]);
    return second >= 16 && second <= 31;
  }
  return false;
}

function ancestors(chain: readonly Proc[], from: number, to: number): string[] {
  const names: string[] = [];
  for (let i = from; i <= to && i < chain.length; i++) names.push((chain[i] as Proc).name);
  return names;
}

function spawnedByWebServer(chain: readonly Proc[]): boolean {
  return ancestors(chain, 1, 3).some((n) => WEB_SERVERS.has(n));
}

function execRules(ev: KernelEvent, out: RuleId[]): void {
  const f = ev.facts;
  const self = f.chain[0] as Proc;
  const name = self.name;
  const parent = f.chain[1]?.name;
  const cmd = cmdline(self);
  const args = self.args;
  const privileged = f.container.privileged;
  const shell = SHELLS.has(name);

  if (shell && f.tty !== 0 && (parent === undefined || CONTAINER_ENTRYPOINT_PARENTS.has(parent)))
    out.push('terminalShell');
  if (
    shell &&
    parent !== undefined &&
    !SHELL_SPAWN_ALLOWED_PARENTS.has(parent) &&
    f.chain.slice(1).some((p) => PROTECTED_SHELL_SPAWNERS.has(p.name))
  ) {
    out.push('runShellUntrusted');
  }
  const byWeb = spawnedByWebServer(f.chain);
  if (byWeb && shell && !cmd.startsWith('sh -c /usr/bin') && !cmd.includes('healthcheck'))
    out.push('webServerShell');
  if (
    byWeb &&
    !shell &&
    SUSPICIOUS_WEB_CHILDREN.has(name) &&
    !cmd.includes('healthcheck') &&
    !cmd.includes('status')
  ) {
    out.push('webServerChild');
  }
  if (
    byWeb &&
    (cmd.includes('/dev/tcp/') ||
      cmd.includes('nc -e') ||
      cmd.includes('ncat -e') ||
      cmd.includes('bash -i') ||
      cmd.includes("python -c 'import socket") ||
      cmd.includes("python3 -c 'import socket") ||
      cmd.includes("perl -e 'use Socket") ||
      cmd.includes('ruby -rsocket') ||
      (cmd.includes('mkfifo') && cmd.includes('/tmp')))
  ) {
    out.push('webServerReverseShell');
  }
  if (parent !== undefined && DB_SERVERS.has(parent) && !DB_SERVERS.has(name)) out.push('dbSpawnedProcess');
  if (
    PACKAGE_MANAGERS.has(name) &&
    f.user.name !== '_apt' &&
    !ancestors(f.chain, 1, 7).some((n) => PACKAGE_MANAGERS.has(n))
  ) {
    out.push('packageMgmt');
  }
  if (NETWORK_TOOLS.has(name)) out.push('networkTool');
  if (REMOTE_COPY_TOOLS.has(name)) out.push('remoteFileCopy');
  if (
    name === 'wget' ||
    (name === 'curl' && [' -o ', ' --output ', ' -O ', ' --remote-name '].some((s) => cmd.includes(s)))
  ) {
    out.push('ingressRemoteCopy');
  }
  if (K8S_CLIENTS.has(name)) out.push('k8sClientTool');
  if (cmd.includes('base64') && (cmd.includes('--decode') || cmd.includes('-d'))) out.push('decodingPayload');
  if (RECON.has(name) && f.tty !== 0) out.push('interactiveRecon');
  if (MINERS.has(name)) out.push('knownMiner');
  if (['stratum+tcp', 'stratum2+tcp', 'stratum+ssl', 'stratum2+ssl'].some((s) => cmd.includes(s)))
    out.push('stratum');
  if (
    (name === 'nc' && (cmd.includes(' -e') || cmd.includes(' -c'))) ||
    (name === 'ncat' && ['--sh-exec', '--exec', '-e ', '-c ', '--lua-exec'].some((s) => args.includes(s)))
  ) {
    out.push('netcatRce');
  }
  const lowerArgs = args.toLowerCase();
  if (
    (GREP.has(name) &&
      [
        'begin private',
        'begin openssh private',
        'begin rsa private',
        'begin dsa private',
        'begin ec private',
      ].some((s) => lowerArgs.includes(s))) ||
    (name === 'find' && ['id_rsa', 'id_dsa', 'id_ed25519', 'id_ecdsa'].some((s) => args.includes(s)))
  ) {
    out.push('searchPrivateKeys');
  }
  if (
    (GREP.has(name) &&
      [
        'aws_access_key_id',
        'aws_secret_access_key',
        'aws_session_token',
        'accesskeyid',
        'secretaccesskey',
      ].some((s) => lowerArgs.includes(s))) ||
    (name === 'find' && args.endsWith('.aws/credentials'))
  ) {
    out.push('findAwsCredentials');
  }
  if (
    self.exe.startsWith('/dev/shm/') ||
    (self.cwd.startsWith('/dev/shm/') && (self.exe.startsWith('./') || args.startsWith('./'))) ||
    (shell &&
      (args.startsWith('-c /dev/shm') || args.startsWith('-i /dev/shm') || args.startsWith('/dev/shm')))
  ) {
    out.push('execFromDevShm');
  }
  if (ev.upperLayer) out.push('dropAndExecute');
  if (privileged && name === 'mount' && !(args === '' || ['-V', '-l', '-h'].includes(args)))
    out.push('mountPrivileged');
  if (privileged && name === 'debugfs') out.push('debugfsPrivileged');
  if (ev.containerStart) {
    if (privileged && !PRIVILEGED_TRUSTED_IMAGES.has(f.container.image.repository) && !isEksCoreImage(f)) {
      out.push('launchPrivileged');
    }
    if (f.user.uid === 0) out.push('runAsRoot');
  }
}

function isEksCoreImage(f: SyscallFacts): boolean {
  const repo = f.container.image.repository;
  return repo.endsWith('.amazonaws.com/amazon-k8s-cni') || repo.endsWith('.amazonaws.com/eks/kube-proxy');
}

function openRules(ev: KernelEvent, out: RuleId[]): void {
  const f = ev.facts;
  if (f.fd?.type !== 'file') return;
  const path = f.fd.path;
  const self = f.chain[0] as Proc;
  const parent = f.chain[1]?.name;
  const read = ev.access !== 'write';
  if (
    read &&
    (SENSITIVE_FILES.has(path) || path.startsWith('/etc/sudoers.d/') || path.startsWith('/etc/pam.d/')) &&
    !SENSITIVE_READ_TRUSTED.has(self.name)
  ) {
    out.push('readSensitiveUntrusted');
  }
  if (
    (path.startsWith('/host/') || path.startsWith('/rootfs/') || path.startsWith('/hostfs/')) &&
    !CONTAINER_RUNTIMES.has(self.name)
  ) {
    out.push('hostSensitivePaths');
  }
  if (read && /^\/proc\/[^/]+\/environ$/.test(path) && self.name !== 'scsi_id' && self.name !== 'argoexec') {
    out.push('procEnviron');
  }
  if (
    read &&
    self.name === 'tar' &&
    f.tty === 0 &&
    parent !== undefined &&
    CONTAINER_ENTRYPOINT_PARENTS.has(parent) &&
    !['/etc', '/proc', '/lib', '/usr', '/sys', '/dev'].some((p) => path.startsWith(p))
  ) {
    out.push('kubectlCpExfil');
  }
  if (!read) {
    const caps = f.extra?.['thread.cap_effective'] ?? (f.container.privileged ? ALL_CAPS : '');
    if (path.endsWith('release_agent') && typeof caps === 'string' && caps.includes('CAP_SYS_ADMIN'))
      out.push('releaseAgent');
    const dir = path.slice(0, path.lastIndexOf('/'));
    if (['/bin', '/sbin', '/usr/bin', '/usr/sbin'].includes(dir) && !PACKAGE_MANAGERS.has(self.name))
      out.push('writeBinaryDir');
    if (ev.createsExecutable) out.push('driftOpenCreate');
  }
}

function connectRules(ev: KernelEvent, out: RuleId[]): void {
  const f = ev.facts;
  const fd = f.fd;
  if (fd?.type !== 'ipv4') return;
  const self = f.chain[0] as Proc;
  const remote = fd.outbound ? fd.serverIp : fd.clientIp;
  const ns = f.container.pod.namespace;
  if (ev.op === 'connect') {
    if (
      fd.serverName === K8S_API_SERVER_NAME &&
      ns !== 'kube-system' &&
      !K8S_API_TRUSTED_IMAGES.has(f.container.image.repository)
    ) {
      out.push('contactK8sApi');
    }
    if (fd.serverIp === IMDS_IP) {
      out.push('ec2Metadata');
      // user_known_metadata_access: the rules ship with kube-system allowed.
      if (ns !== 'kube-system') out.push('cloudMetadata');
    }
    if (INTERPRETERS.has(self.name)) out.push('interpretedOutbound');
    if (
      !isPrivateAddress(fd.serverIp) &&
      fd.serverName !== undefined &&
      MINER_DOMAINS.has(fd.serverName) &&
      MINER_PORTS.has(fd.serverPort)
    ) {
      out.push('minerPoolPorts');
    }
    if (self.exe.endsWith('ssh') && fd.proto === 'tcp' && SSH_NON_STANDARD_PORTS.has(fd.serverPort))
      out.push('sshNonStandardPort');
  } else if (INTERPRETERS.has(self.name)) {
    out.push('interpretedInbound');
  }
  if (fd.proto === 'udp' && !EXPECTED_UDP_PORTS.has(fd.serverPort)) out.push('unexpectedUdp');
  if (SUBNET_ONLY_NAMESPACES.has(ns) && !isPrivateAddress(remote) && remote !== '0.0.0.0')
    out.push('outsideLocalSubnet');
}

/** The catalogue rules Falco fires for this event, in rule-file order of evaluation (stable). */
export function firedRules(ev: KernelEvent): RuleId[] {
  const out: RuleId[] = [];
  const f = ev.facts;
  switch (ev.op) {
    case 'exec':
      execRules(ev, out);
      break;
    case 'open':
      openRules(ev, out);
      break;
    case 'connect':
    case 'accept':
      connectRules(ev, out);
      break;
    case 'dup':
      if (f.fd?.type === 'ipv4') out.push('redirectStdio');
      break;
    case 'chmod': {
      const mode = f.extra?.['evt.arg.mode'];
      if (typeof mode === 'string' && /S_IX(USR|GRP|OTH)/.test(mode)) out.push('driftChmod');
      break;
    }
    case 'setns': {
      const name = (f.chain[0] as Proc).name;
      if (!name.startsWith('runc') && !['calico', 'cilium-cni', 'sysdig'].includes(name))
        out.push('changeThreadNamespace');
      break;
    }
    case 'unshare':
      // Only containers without CAP_SYS_ADMIN in their permitted set: unprivileged ones.
      if (!f.container.privileged) out.push('unshareNamespace');
      break;
  }
  return out;
}
