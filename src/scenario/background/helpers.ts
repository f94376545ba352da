/** Small helpers shared by the background activities and the attacks. */
import type { Cluster, Service } from '../cluster.ts';
import { mainContainer } from '../cluster.ts';
import { K8S_API_SERVER_NAME } from '../detect.ts';
import type { Peer } from '../events.ts';
import type { Container, Pod, Proc, Role } from '../model.ts';
import { proc } from '../model.ts';
import type { ScenarioRandom } from '../random.ts';
import { NS_PER_MS, NS_PER_SECOND } from '../time.ts';

export const MS = NS_PER_MS;
export const SECOND = NS_PER_SECOND;
export const MINUTE = 60 * NS_PER_SECOND;

/** A Kubernetes Service as Falco sees a connection to it (ClusterIP, resolved name). */
export function servicePeer(cluster: Cluster, key: string): Peer {
  const s = cluster.services.get(key) as Service;
  return {
    ip: s.ip,
    port: s.port,
    name: `${s.name}.${s.namespace}.svc.cluster.local`,
    proto: s.port === 6831 ? 'udp' : 'tcp',
  };
}

export function apiServerPeer(cluster: Cluster): Peer {
  return { ip: cluster.apiServer.ip, port: cluster.apiServer.port, name: K8S_API_SERVER_NAME };
}

/** A random pod among the workloads with one of these roles, weighted per role; undefined if none exists. */
export function pickPod(
  rng: ScenarioRandom,
  cluster: Cluster,
  roles: readonly (readonly [Role, number])[],
): Pod | undefined {
  const present = roles.filter(([role]) => cluster.podsOf(role).length > 0);
  if (present.length === 0) return undefined;
  return rng.pick(cluster.podsOf(rng.weighted(present)));
}

export function pickContainer(
  rng: ScenarioRandom,
  cluster: Cluster,
  roles: readonly (readonly [Role, number])[],
): Container | undefined {
  const pod = pickPod(rng, cluster, roles);
  return pod === undefined ? undefined : mainContainer(pod);
}

export function hasAny(cluster: Cluster, roles: readonly Role[]): boolean {
  return roles.some((r) => cluster.podsOf(r).length > 0);
}

/** A shell process of the container's image (`bash`, or busybox `sh`), started with `args`. */
export function shellProc(container: Container, args = '', opts: Partial<Proc> = {}): Proc {
  const shell = container.shell ?? { name: 'sh', exepath: '/bin/sh' };
  return proc(shell.exepath, args, container.init.cwd, { exe: shell.name, name: shell.name, ...opts });
}

/** A command started from an interactive shell (its own process group, same cwd). */
export function command(exepath: string, args: string, cwd: string, exe?: string): Proc {
  return proc(exepath, args, cwd, exe === undefined ? {} : { exe });
}

/** Spread `n` offsets over `span` nanoseconds, sorted, starting at `from`. */
export function spread(rng: ScenarioRandom, n: number, from: number, span: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(from + rng.uniform(0, span));
  return out.sort((a, b) => a - b);
}
