/**
 * The synthetic cluster's vocabulary: nodes, workloads, pods, containers, and
 * processes as Falco sees them. Built once per seed by cluster.ts; read by the
 * background and attack generators.
 */

export interface ClusterNode {
  /** EKS-style node name, which Falco (FALCO_HOSTNAME = spec.nodeName) reports as hostname. */
  readonly name: string;
  readonly ip: string;
  readonly zone: string;
  /** First two octets + third octet of the node's subnet: pod IPs come from it (AWS VPC CNI). */
  readonly subnet: string;
}

export interface ImageRef {
  readonly repository: string;
  readonly tag: string;
}

export interface UserIdentity {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly group: string;
}

/** A process as Falco describes it. `name` is the kernel comm: at most 15 characters. */
export interface Proc {
  readonly name: string;
  /** argv[0] */
  readonly exe: string;
  /** The resolved executable. */
  readonly exepath: string;
  /** Arguments after argv[0], space-joined (Falco's proc.args). */
  readonly args: string;
  /** Working directory, with Falco's trailing slash. */
  readonly cwd: string;
  /** Session leader (container init, interactive shell, setsid'd daemon). */
  readonly sessionLeader?: boolean;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';

/** What a workload does, which decides the activity and attacks it can host. */
export type Role =
  | 'ingress'
  | 'web-static'
  | 'web-php'
  | 'web-python'
  | 'web-node'
  | 'api-java'
  | 'ml-api'
  | 'notebook'
  | 'postgres'
  | 'redis'
  | 'prometheus'
  | 'node-exporter'
  | 'log-shipper'
  | 'grafana'
  | 'argocd-controller'
  | 'argocd-repo'
  | 'cert-manager'
  | 'external-secrets'
  | 'gitlab-runner'
  | 'aws-node'
  | 'ebs-csi-controller'
  | 'cluster-autoscaler'
  | 'coredns'
  | 'ci-job'
  | 'batch-etl'
  | 'pg-backup'
  | 'debug-pod';

export interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: WorkloadKind;
  readonly role: Role;
  readonly serviceAccount: string;
  readonly pods: Pod[];
}

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly node: ClusterNode;
  readonly ip: string;
  readonly workload: Workload;
  /** containerd-shim's -id: the pod sandbox id (64 hex). */
  readonly sandboxId: string;
  readonly containers: Container[];
}

/** The interactive shell an image ships (kubectl exec -it … -- <shell>). */
export interface ShellSpec {
  readonly name: string;
  readonly exepath: string;
}

export const BASH: ShellSpec = Object.freeze({ name: 'bash', exepath: '/usr/bin/bash' });
export const BUSYBOX_SH: ShellSpec = Object.freeze({ name: 'sh', exepath: '/bin/busybox' });

export interface Container {
  /** 12-hex short id, as Falco's container.id. */
  readonly id: string;
  readonly name: string;
  readonly image: ImageRef;
  readonly privileged: boolean;
  /** Start time, epoch nanoseconds (container.start_ts). */
  readonly startNs: number;
  /** The user the image runs as. */
  readonly user: UserIdentity;
  /** PID 1 of the container. */
  readonly init: Proc;
  /** Absent for distroless images. */
  readonly shell?: ShellSpec;
  readonly pod: Pod;
}

export const ROOT: UserIdentity = Object.freeze({ name: 'root', uid: 0, gid: 0, group: 'root' });

/** Kernel comm: the executable's basename truncated to 15 characters. */
export function comm(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.length > 15 ? base.slice(0, 15) : base;
}

/** A process started from `exepath` with `args`; argv[0] defaults to the path. */
export function proc(exepath: string, args: string, cwd: string, opts: Partial<Proc> = {}): Proc {
  return { name: comm(opts.exe ?? exepath), exe: exepath, exepath, args, cwd, ...opts };
}

/** Falco's proc.cmdline: comm and arguments. */
export function cmdline(p: Proc): string {
  return p.args.length > 0 ? `${p.name} ${p.args}` : p.name;
}
