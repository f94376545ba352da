/**
 * Where an alert happened, from the Falco fields that say so. Grouping key, most
 * specific first:
 *   pod:<cluster>/<namespace>/<pod>   k8s.ns.name + k8s.pod.name (k8s_audit: the target pod)
 *   container:<host>/<containerId>    container.id, unless it is "host"
 *   host:<hostname>                   otherwise
 * Falco has no cluster field: `k8s.cluster.name` or a falcosidekick customfield
 * (configurable names) when present, else the configured cluster name.
 */
import type { FieldValue, Workload } from './types.ts';

export interface WorkloadOptions {
  /** Cluster name used when the alert carries none. */
  readonly cluster?: string;
  /** output_fields keys that may carry the cluster name, first match wins. */
  readonly clusterFields?: readonly string[];
  /** Reuses pod key strings across events. */
  readonly keyCache?: PodKeyCache;
  /** Reuses whole Workload objects across events (createNormalizer makes one per normalizer). */
  readonly workloadCache?: WorkloadCache;
}

/** Pod keys remembered (cleared when full) and the longest pod name remembered. */
const POD_KEY_CACHE_SIZE = 4096;
const MAX_CACHED_POD_LENGTH = 256;

/**
 * The same pod key string for every event of a pod, instead of a fresh
 * concatenation each time: consumers that look workloads up by key (the
 * featurizer's owner cache) then hash a flat string once, not every event.
 * Only string identity changes; the key's content is the same.
 */
export class PodKeyCache {
  private readonly byPod = new Map<string, { cluster: string; namespace: string; key: string }>();

  key(cluster: string, namespace: string, pod: string): string {
    const hit = this.byPod.get(pod);
    if (hit !== undefined && hit.cluster === cluster && hit.namespace === namespace) return hit.key;
    const key = podKey(cluster, namespace, pod);
    if (pod.length <= MAX_CACHED_POD_LENGTH) {
      if (this.byPod.size >= POD_KEY_CACHE_SIZE) this.byPod.clear();
      this.byPod.set(pod, { cluster, namespace, key });
    }
    return key;
  }
}

function podKey(cluster: string, namespace: string, pod: string): string {
  return `pod:${part(cluster)}/${part(namespace)}/${part(pod)}`;
}

export const DEFAULT_CLUSTER = 'default';
/** The default clusterFields (checked with literal keys on the hot path). */
export const DEFAULT_CLUSTER_FIELDS: readonly string[] = Object.freeze(['k8s.cluster.name', 'cluster']);
/** Host name used when the alert has none (Falco < 0.31 does not write one). */
export const UNKNOWN_HOST = 'unknown';

type Fields = Readonly<Record<string, FieldValue>>;

/** A usable string value: Falco writes null (or "<NA>" in older versions) for a field without value. */
function usable(v: FieldValue | undefined): string | undefined {
  if (typeof v !== 'string') return undefined;
  // Lengths first: comparing with '<NA>' is a call, needed only for four-character values.
  const n = v.length;
  return n === 0 || (n === 4 && v === '<NA>') ? undefined : v;
}

function text(fields: Fields, key: string): string | undefined {
  return usable(fields[key]);
}

function clusterOf(fields: Fields, opts: WorkloadOptions): string {
  const names = opts.clusterFields;
  if (names === undefined) {
    return usable(fields['k8s.cluster.name']) ?? usable(fields.cluster) ?? opts.cluster ?? DEFAULT_CLUSTER;
  }
  for (let i = 0; i < names.length; i++) {
    const v = text(fields, names[i] as string);
    if (v !== undefined) return v;
  }
  return opts.cluster ?? DEFAULT_CLUSTER;
}

/** Subresources that exist only on pods (pods/exec, pods/attach, …). */
const POD_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'portforward',
  'log',
  'ephemeralcontainers',
  'eviction',
  'binding',
]);

/**
 * k8s_audit alerts describe an API request; the workload is its target pod, if it
 * targets one. Falco's output_fields hold only the fields a rule's output names,
 * so `ka.target.resource` is often absent: a pod-only subresource or `ka.req.pod.*`
 * fields (the request body is a pod) say "pod" too. The pod is `ka.target.name`,
 * or `ka.resp.name` on create (the name is in the body, not the URL).
 */
function auditTarget(fields: Fields): { namespace?: string; pod?: string } {
  const namespace = text(fields, 'ka.target.namespace');
  const resource = text(fields, 'ka.target.resource');
  let isPod = resource === 'pods';
  if (resource === undefined) {
    const sub = text(fields, 'ka.target.subresource');
    isPod =
      (sub !== undefined && POD_SUBRESOURCES.has(sub)) ||
      Object.keys(fields).some((k) => k.startsWith('ka.req.pod.'));
  }
  const pod = isPod ? (text(fields, 'ka.target.name') ?? text(fields, 'ka.resp.name')) : undefined;
  return { ...(namespace !== undefined && { namespace }), ...(pod !== undefined && { pod }) };
}

/** Key components never contain '/' in real clusters (DNS-1123 names, hex ids), but fields are untrusted: escape so keys stay unambiguous. */
function part(s: string): string {
  return s.indexOf('/') === -1 && s.indexOf('%') === -1 ? s : encodeURIComponent(s);
}

export function workloadOf(
  fields: Fields,
  hostname: string,
  source: string,
  opts: WorkloadOptions = {},
): Workload {
  const host = hostname.length > 0 ? hostname : UNKNOWN_HOST;
  const cluster = clusterOf(fields, opts);
  let namespace = usable(fields['k8s.ns.name']);
  let pod = usable(fields['k8s.pod.name']);
  if (source === 'k8s_audit' && namespace === undefined && pod === undefined) {
    ({ namespace, pod } = auditTarget(fields));
  }
  let containerId = usable(fields['container.id']);
  if (containerId !== undefined && containerId.length === 4 && containerId === 'host')
    containerId = undefined;
  const container = containerId === undefined ? undefined : usable(fields['container.name']);
  // What the image is made of: repository and tag ("repo:tag", or the repository alone), else container.image.
  let repo: string | undefined;
  let tagOrImage: string | undefined;
  if (containerId !== undefined) {
    // Literal keys: each load gets its own inline cache (this runs for every event).
    repo = usable(fields['container.image.repository']);
    tagOrImage =
      repo !== undefined ? usable(fields['container.image.tag']) : usable(fields['container.image']);
  }
  const cache = opts.workloadCache;
  if (cache !== undefined) {
    const hit = cache.find(host, cluster, namespace, pod, containerId, container, repo, tagOrImage);
    if (hit !== undefined) return hit;
  }
  const image = repo === undefined ? tagOrImage : tagOrImage === undefined ? repo : `${repo}:${tagOrImage}`;

  let kind: Workload['kind'];
  let key: string;
  if (namespace !== undefined && pod !== undefined) {
    kind = 'pod';
    key =
      opts.keyCache === undefined
        ? podKey(cluster, namespace, pod)
        : opts.keyCache.key(cluster, namespace, pod);
  } else if (containerId !== undefined) {
    kind = 'container';
    key = `container:${part(host)}/${part(containerId)}`;
  } else {
    kind = 'host';
    key = `host:${part(host)}`;
  }
  // Every key always present (undefined when unknown): one object shape for all workloads keeps consumers fast.
  const workload: Workload = { key, kind, host, cluster, namespace, pod, container, containerId, image };
  cache?.store(workload, repo, tagOrImage);
  return workload;
}

/** Workloads remembered (a direct-mapped table: a colliding workload replaces the entry). */
const WORKLOAD_CACHE_SLOTS = 4096;
/** Workloads whose identifying strings are longer than this in total are not remembered (bounds the bytes). */
const MAX_CACHED_WORKLOAD_CHARS = 512;

interface WorkloadEntry {
  readonly workload: Workload;
  readonly repo: string | undefined;
  readonly tagOrImage: string | undefined;
}

function lengthOf(s: string | undefined): number {
  return s === undefined ? 0 : s.length;
}

/**
 * The same frozen Workload object for every event of a workload, instead of a
 * fresh one (and a fresh key and image concatenation) per event. Consumers that
 * key caches by the workload's strings (the featurizer's owner cache) then meet
 * the very same string instances again: their lookups and comparisons are
 * pointer checks instead of hashing and comparing fresh strings. A hit requires
 * every input of the workload to be equal, so the result is the Workload that
 * workloadOf would build. Fixed size: WORKLOAD_CACHE_SLOTS entries of bounded
 * length; the slot comes from a cheap sample of the most specific identity, so
 * a crafted collision only costs a miss.
 */
export class WorkloadCache {
  private readonly slots = new Array<WorkloadEntry | undefined>(WORKLOAD_CACHE_SLOTS).fill(undefined);

  find(
    host: string,
    cluster: string,
    namespace: string | undefined,
    pod: string | undefined,
    containerId: string | undefined,
    container: string | undefined,
    repo: string | undefined,
    tagOrImage: string | undefined,
  ): Workload | undefined {
    const entry = this.slots[slotOf(pod ?? containerId ?? host)];
    if (entry === undefined) return undefined;
    const w = entry.workload;
    return w.pod === pod &&
      w.containerId === containerId &&
      w.namespace === namespace &&
      w.host === host &&
      w.cluster === cluster &&
      w.container === container &&
      entry.repo === repo &&
      entry.tagOrImage === tagOrImage
      ? w
      : undefined;
  }

  store(workload: Workload, repo: string | undefined, tagOrImage: string | undefined): void {
    const w = workload;
    const chars =
      w.key.length +
      w.host.length +
      lengthOf(w.cluster) +
      lengthOf(w.namespace) +
      lengthOf(w.pod) +
      lengthOf(w.container) +
      lengthOf(w.containerId) +
      2 * lengthOf(w.image);
    if (chars > MAX_CACHED_WORKLOAD_CHARS) return;
    this.slots[slotOf(w.pod ?? w.containerId ?? w.host)] = { workload: Object.freeze(w), repo, tagOrImage };
  }
}

/** Slot of an identity: its length and last 8 characters (pod names differ in their generated suffix). */
function slotOf(id: string): number {
  const n = id.length;
  let h = n | 0;
  for (let i = n > 8 ? n - 8 : 0; i < n; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  h ^= h >>> 15;
  return (Math.imul(h, 0x2c1b3c6d) >>> 20) & (WORKLOAD_CACHE_SLOTS - 1);
}
