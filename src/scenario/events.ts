/**
 * Short constructors for the kernel events the scenario describes: a process
 * start, a file open, a connection, an accepted connection. They fill in what
 * Falco would see (exe flags, ephemeral ports, the pod's address).
 */
import type { FieldValue } from '../events/types.ts';
import type { FdInfo, SyscallFacts } from './facts.ts';
import type { Container, Proc, UserIdentity } from './model.ts';
import type { ScenarioRandom } from './random.ts';

export interface EventOptions {
  readonly user?: UserIdentity;
  readonly tty?: number;
  readonly extra?: Readonly<Record<string, FieldValue>>;
}

export interface ExecOptions extends EventOptions {
  /** The executable was written after the container started (overlayfs upper layer). */
  readonly upperLayer?: boolean;
  /** How long before this execve the executable was written (default: 1-60 s, stable per path). */
  readonly exeAgeNs?: number;
}

/** A stable pseudo-random age for a dropped executable, from its path: 1 to 60 seconds. */
function defaultExeAge(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  const u = (h >>> 0) / 4294967296;
  return Math.round((1 + 59 * u) * 1e9);
}

/** Falco's exe_flags for an execve: writable by the user (root), and which overlay layer holds the file. */
export function exeFlags(user: UserIdentity, upperLayer: boolean): string {
  const layer = upperLayer ? 'EXE_UPPER_LAYER' : 'EXE_LOWER_LAYER';
  return user.uid === 0 || upperLayer ? `EXE_WRITABLE|${layer}` : layer;
}

export function execve(container: Container, chain: readonly Proc[], o: ExecOptions = {}): SyscallFacts {
  const user = o.user ?? container.user;
  const upper = o.upperLayer ?? false;
  return {
    kind: 'syscall',
    container,
    evtType: 'execve',
    chain,
    user,
    tty: o.tty ?? 0,
    exeFlags: exeFlags(user, upper),
    ...(upper && { exeAgeNs: o.exeAgeNs ?? defaultExeAge((chain[0] as Proc).exepath) }),
    ...(o.extra !== undefined && { extra: o.extra }),
  };
}

/** What every syscall event has: the container, the call, the process chain, who, which terminal. */
function syscallBase(container: Container, evtType: string, chain: readonly Proc[], o: EventOptions) {
  return {
    kind: 'syscall',
    container,
    evtType,
    chain,
    user: o.user ?? container.user,
    tty: o.tty ?? 0,
  } as const;
}

export function opened(
  container: Container,
  chain: readonly Proc[],
  path: string,
  o: EventOptions & { evtType?: string } = {},
): SyscallFacts {
  return {
    ...syscallBase(container, o.evtType ?? 'openat', chain, o),
    fd: { type: 'file', path },
    ...(o.extra !== undefined && { extra: o.extra }),
  };
}

export interface Peer {
  readonly ip: string;
  readonly port: number;
  /** DNS name Falco saw resolved for the address. */
  readonly name?: string;
  readonly proto?: 'tcp' | 'udp';
}

/** A Linux ephemeral port (net.ipv4.ip_local_port_range 32768-60999). */
export function ephemeralPort(rng: ScenarioRandom): number {
  return rng.between(32768, 60999);
}

export function connected(
  rng: ScenarioRandom,
  container: Container,
  chain: readonly Proc[],
  to: Peer,
  o: EventOptions & { evtType?: string } = {},
): SyscallFacts {
  const fd: FdInfo = {
    type: 'ipv4',
    proto: to.proto ?? 'tcp',
    clientIp: container.pod.ip,
    clientPort: ephemeralPort(rng),
    serverIp: to.ip,
    serverPort: to.port,
    outbound: true,
    ...(to.name !== undefined && { serverName: to.name }),
  };
  return {
    ...syscallBase(container, o.evtType ?? 'connect', chain, o),
    fd,
    ...(o.extra !== undefined && { extra: o.extra }),
  };
}

export function accepted(
  rng: ScenarioRandom,
  container: Container,
  chain: readonly Proc[],
  fromIp: string,
  localPort: number,
  o: EventOptions = {},
): SyscallFacts {
  return {
    ...syscallBase(container, 'accept4', chain, o),
    fd: {
      type: 'ipv4',
      proto: 'tcp',
      clientIp: fromIp,
      clientPort: ephemeralPort(rng),
      serverIp: container.pod.ip,
      serverPort: localPort,
      outbound: false,
    },
    ...(o.extra !== undefined && { extra: o.extra }),
  };
}

/** A file descriptor duplicated onto stdin/stdout/stderr (dup2) that is a connection: the reverse-shell signature. */
export function dupToSocket(
  rng: ScenarioRandom,
  container: Container,
  chain: readonly Proc[],
  to: Peer,
  o: EventOptions = {},
): SyscallFacts {
  const base = connected(rng, container, chain, to, o);
  return { ...base, evtType: 'dup2' };
}

/** chmod's mode argument as Falco renders it. */
export const MODE_0755 = '0755(S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR)';
export const MODE_0777 = '0777(S_IXOTH|S_IWOTH|S_IROTH|S_IXGRP|S_IWGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR)';

export function chmodded(
  container: Container,
  chain: readonly Proc[],
  path: string,
  mode: string,
  o: EventOptions = {},
): SyscallFacts {
  return {
    ...syscallBase(container, 'chmod', chain, o),
    extra: { 'evt.arg.filename': path, 'evt.arg.name': null, 'evt.arg.mode': mode, ...o.extra },
  };
}

/** An open that creates an executable file (the drift rules' evt.is_open_exec). */
export function createdExecutable(
  container: Container,
  chain: readonly Proc[],
  path: string,
  o: EventOptions = {},
): SyscallFacts {
  return opened(container, chain, path, {
    ...o,
    extra: { 'evt.arg.name': path, 'evt.arg.filename': null, 'evt.arg.mode': '0755', ...o.extra },
  });
}
