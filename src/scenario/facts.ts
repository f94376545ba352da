/**
 * What happened, before it is a Falco alert: one kernel event (a process, its
 * ancestry, its container, the file or connection involved) or one Kubernetes
 * audit event. resolveSyscallField answers any field a rule's output asks for,
 * with Falco's types (numbers for ids, ports and times; null when Falco has no value).
 */
import type { FieldValue } from '../events/types.ts';
import type { Container, Proc, UserIdentity } from './model.ts';
import { cmdline } from './model.ts';

/** The host side of every container process's ancestry. */
export const CONTAINERD_SHIM_PATH = '/usr/bin/containerd-shim-runc-v2';
export const SYSTEMD: Proc = Object.freeze({
  name: 'systemd',
  exe: '/usr/lib/systemd/systemd',
  exepath: '/usr/lib/systemd/systemd',
  args: '--switched-root --system --deserialize 21',
  cwd: '/',
  sessionLeader: true,
});
export const RUNC: Proc = Object.freeze({
  name: 'runc',
  exe: 'runc',
  exepath: '/usr/sbin/runc',
  args: '--root /run/containerd/runc/k8s.io --log /run/containerd/io.containerd.runtime.v2.task/k8s.io/exec.log exec --process /tmp/runc-process --detach --pid-file /run/containerd/exec.pid',
  cwd: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/',
});

export type FdInfo =
  | { readonly type: 'file'; readonly path: string }
  | {
      readonly type: 'ipv4';
      readonly proto: 'tcp' | 'udp';
      readonly clientIp: string;
      readonly clientPort: number;
      readonly serverIp: string;
      readonly serverPort: number;
      /** The event's process is the client (connect) rather than the server (accept). */
      readonly outbound: boolean;
      /** DNS name Falco resolved for the server address, if any. */
      readonly serverName?: string;
    };

export interface SyscallFacts {
  readonly kind: 'syscall';
  readonly container: Container;
  readonly evtType: string;
  /** [the process, its parent, grandparent, …], inside the container first, host side last. */
  readonly chain: readonly Proc[];
  readonly user: UserIdentity;
  /** Controlling terminal device number: 0 for none, 34816 for /dev/pts/0. */
  readonly tty: number;
  /** Falco's execve exe_flags (evt.arg.flags on execve). */
  readonly exeFlags?: string;
  /** For a freshly written executable: nanoseconds between its last change (ctime) and this execve. */
  readonly exeAgeNs?: number;
  readonly fd?: FdInfo;
  /** Any other field of the event, by Falco field name (evt.arg.*, evt.res, thread.cap_effective…). */
  readonly extra?: Readonly<Record<string, FieldValue>>;
}

export interface AuditFacts {
  readonly kind: 'audit';
  /** The Falco instance that receives the audit webhook. */
  readonly hostname: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
}

export type Facts = SyscallFacts | AuditFacts;

export const PTS0 = 34816;

/** Effective capabilities of a container's processes (containerd's default set). */
export const DEFAULT_CAPS =
  'CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP';
/** A privileged container: every capability. */
export const ALL_CAPS =
  'CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE';

/** containerd-shim of the container's pod, as it appears in an ancestry. */
export function shimOf(container: Container): Proc {
  return {
    name: 'containerd-shim',
    exe: CONTAINERD_SHIM_PATH,
    exepath: CONTAINERD_SHIM_PATH,
    args: `-namespace k8s.io -id ${container.pod.sandboxId} -address /run/containerd/containerd.sock`,
    cwd: `/run/containerd/io.containerd.runtime.v2.task/k8s.io/${container.pod.sandboxId}/`,
  };
}

/** Ancestry of a process started by the container's init (or by its children). */
export function underInit(container: Container, ...procs: Proc[]): Proc[] {
  return [...procs, container.init, shimOf(container), SYSTEMD];
}

/** Ancestry of a process started by `kubectl exec` (runc exec). */
export function underExec(container: Container, ...procs: Proc[]): Proc[] {
  return [...procs, RUNC, shimOf(container), SYSTEMD];
}

/** Ancestry of the container's init itself. */
export function initChain(container: Container): Proc[] {
  return [container.init, shimOf(container), SYSTEMD];
}

function ancestorIndex(field: string, prefix: string): number {
  return Number(field.slice(prefix.length, -1));
}

function sessionName(chain: readonly Proc[]): string | null {
  for (const p of chain) if (p.sessionLeader) return p.name;
  return null;
}

/** The value of a Falco field for a syscall event at `timeNs` (epoch ns). */
export function resolveSyscallField(f: SyscallFacts, field: string, timeNs: number): FieldValue {
  const extra = f.extra?.[field];
  if (extra !== undefined) return extra;
  const self = f.chain[0] as Proc;
  const parent = f.chain[1];
  const c = f.container;
  const fd = f.fd;
  switch (field) {
    case 'evt.type':
      return f.evtType;
    case 'evt.res':
      return 'SUCCESS';
    case 'evt.arg.flags':
      return f.exeFlags ?? null;
    case 'user.name':
      return f.user.name;
    case 'user.uid':
      return f.user.uid;
    case 'user.loginuid':
      // No login session inside containers: the audit loginuid is unset.
      return -1;
    case 'user.loginname':
      return null;
    case 'group.gid':
      return f.user.gid;
    case 'group.name':
      return f.user.group;
    case 'proc.name':
      return self.name;
    case 'proc.exe':
      return self.exe;
    case 'proc.exepath':
      return self.exepath;
    case 'proc.args':
      return self.args;
    case 'proc.cmdline':
      return cmdline(self);
    case 'proc.cwd':
      return self.cwd;
    case 'proc.tty':
      return f.tty;
    case 'proc.sname':
      return sessionName(f.chain);
    case 'proc.pname':
      return parent?.name ?? null;
    case 'proc.pexe':
      return parent?.exe ?? null;
    case 'proc.pexepath':
      return parent?.exepath ?? null;
    case 'proc.pcmdline':
      return parent ? cmdline(parent) : null;
    case 'container.id':
      return c.id;
    case 'container.name':
      return c.name;
    case 'container.image.repository':
      return c.image.repository;
    case 'container.image.tag':
      return c.image.tag;
    case 'container.start_ts':
      return c.startNs;
    case 'k8s.pod.name':
      return c.pod.name;
    case 'k8s.ns.name':
      return c.pod.namespace;
    case 'thread.cap_effective':
      return c.privileged ? ALL_CAPS : DEFAULT_CAPS;
    case 'proc.exe_ino.ctime':
    case 'proc.exe_ino.mtime':
      return f.exeAgeNs === undefined ? null : timeNs - f.exeAgeNs;
    case 'proc.exe_ino.ctime_duration_proc_start':
      return f.exeAgeNs ?? null;
  }
  if (field.startsWith('proc.aname[')) return f.chain[ancestorIndex(field, 'proc.aname[')]?.name ?? null;
  if (field.startsWith('proc.aexepath['))
    return f.chain[ancestorIndex(field, 'proc.aexepath[')]?.exepath ?? null;
  if (field.startsWith('fd.')) return fdField(fd, field);
  return null;
}

function fdField(fd: FdInfo | undefined, field: string): FieldValue {
  if (fd === undefined) return null;
  if (fd.type === 'file') {
    switch (field) {
      case 'fd.name':
        return fd.path;
      case 'fd.type':
        return 'file';
      default:
        return null;
    }
  }
  const local = fd.outbound ? fd.clientIp : fd.serverIp;
  const remote = fd.outbound ? fd.serverIp : fd.clientIp;
  switch (field) {
    case 'fd.name':
      return `${fd.clientIp}:${fd.clientPort}->${fd.serverIp}:${fd.serverPort}`;
    case 'fd.type':
      return 'ipv4';
    case 'fd.l4proto':
      return fd.proto;
    case 'fd.lport':
      return fd.outbound ? fd.clientPort : fd.serverPort;
    case 'fd.rport':
      return fd.outbound ? fd.serverPort : fd.clientPort;
    case 'fd.sport':
      return fd.serverPort;
    case 'fd.cport':
      return fd.clientPort;
    case 'fd.sip':
      return fd.serverIp;
    case 'fd.cip':
      return fd.clientIp;
    case 'fd.rip':
      return remote;
    case 'fd.lip':
      return local;
    case 'fd.sip.name':
      return fd.serverName ?? null;
    case 'fd.rip.name':
      return fd.outbound ? (fd.serverName ?? null) : null;
    default:
      // fd.lip.name, fd.cip.name: Falco only knows names it saw resolved; pods and clients have none.
      return null;
  }
}
