/**
 * `workload.context`: who owns a pod, what it runs, as whom, where — from the
 * Kubernetes API when one is reachable (the pod, then its controller chain:
 * ReplicaSet → Deployment, Job → CronJob), otherwise from the fields of the
 * workload's latest events. `source` says which; `kubernetesError` says why
 * the API was not used. Labels and annotations are bounded: they are written
 * by whoever created the pod and go into an LLM prompt.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { Plain } from '../actions/kube.ts';
import { controllerRef } from '../actions/owner.ts';
import type { EventWire } from '../agents/contracts.ts';
import { fieldText } from './queries/event-match.ts';
import { clip } from './bound.ts';

const Ref = z.object({ kind: z.string(), name: z.string() });
export const WorkloadContext = z.object({
  source: z.enum(['kubernetes', 'events', 'none']),
  workloadKey: z.string().optional(),
  namespace: z.string().optional(),
  pod: z.string().optional(),
  node: z.string().optional(),
  /** The top of the controller chain (Deployment for a ReplicaSet's pod). */
  owner: Ref.optional(),
  ownerChain: z.array(Ref).max(5),
  serviceAccount: z.string().optional(),
  containers: z.array(z.object({ name: z.string(), image: z.string().optional() })).max(20),
  image: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()),
  kubernetesError: z.string().optional(),
  eventsSeen: z.number().int().min(0).optional(),
});
export type WorkloadContext = z.infer<typeof WorkloadContext>;

const MAX_LABELS = 64;
const MAX_ANNOTATIONS = 32;
const KUBE_TIMEOUT_MS = 5_000;

/**
 * In-cluster, $KUBECONFIG, or the given file; undefined when none (or `false`).
 * The client library loads only then: it takes seconds to import, and stdio servers start often.
 */
export async function kubeConfigFrom(
  setting: boolean | { kubeconfig: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeConfig | undefined> {
  if (setting === false) return undefined;
  if (typeof setting !== 'object' && !env.KUBERNETES_SERVICE_HOST && !env.KUBECONFIG) return undefined;
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (typeof setting === 'object') kc.loadFromFile(setting.kubeconfig);
  else if (env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else if (env.KUBECONFIG) kc.loadFromDefault();
  else return undefined;
  return kc;
}

function boundedMap(value: unknown, max: number, valueMax: number): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  let n = 0;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (n++ >= max) break;
    out[clip(k, 253)] = clip(typeof v === 'string' ? v : JSON.stringify(v), valueMax);
  }
  return out;
}

const API_VERSION_OF: Readonly<Record<string, string>> = {
  ReplicaSet: 'apps/v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The pod and its controller chain from the API; a string says why not (unreachable, not found). */
export async function contextFromKubernetes(
  kc: KubeConfig,
  namespace: string,
  pod: string,
): Promise<WorkloadContext | string> {
  const { KubeObjects } = await import('../actions/kube.ts');
  const kube = new KubeObjects(kc, 'falconer-mcp');
  let p: Plain | null;
  try {
    p = await withTimeout(
      kube.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace } }),
      KUBE_TIMEOUT_MS,
    );
  } catch (err) {
    return `Kubernetes API unreachable or refused: ${clip(err instanceof Error ? err.message : String(err), 200)}`;
  }
  if (p === null) return `pod ${namespace}/${pod} not found in the Kubernetes API`;
  const chain: { kind: string; name: string }[] = [];
  let current: Plain = p;
  for (let depth = 0; depth < 4; depth++) {
    const ref = controllerRef(current);
    if (ref === undefined) break;
    chain.push(ref);
    const apiVersion = API_VERSION_OF[ref.kind];
    if (apiVersion === undefined) break;
    let next: Plain | null;
    try {
      next = await withTimeout(
        kube.read({ apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace } }),
        KUBE_TIMEOUT_MS,
      );
    } catch {
      next = null; // the kind is not served or not readable: the chain stops here
    }
    if (next === null) break;
    current = next;
  }
  const meta = (p.metadata ?? {}) as Plain;
  const spec = (p.spec ?? {}) as Plain;
  const containers = (Array.isArray(spec.containers) ? (spec.containers as Plain[]) : [])
    .slice(0, 20)
    .map((c) => ({
      name: clip(String(c.name ?? ''), 253),
      ...(typeof c.image === 'string' ? { image: clip(c.image, 512) } : {}),
    }));
  const owner = chain.at(-1);
  return {
    source: 'kubernetes',
    namespace,
    pod,
    ...(typeof spec.nodeName === 'string' ? { node: clip(spec.nodeName, 253) } : {}),
    ...(owner ? { owner } : {}),
    ownerChain: chain,
    ...(typeof spec.serviceAccountName === 'string'
      ? { serviceAccount: clip(spec.serviceAccountName, 253) }
      : {}),
    containers,
    ...(containers[0]?.image !== undefined ? { image: containers[0].image } : {}),
    labels: boundedMap(meta.labels, MAX_LABELS, 256),
    annotations: boundedMap(meta.annotations, MAX_ANNOTATIONS, 512),
  };
}

/** Labels from Falco's `k8s.pod.labels` ("k:v, k2:v2" or a list) and `k8s.pod.label[k]` fields. */
function labelsFromFields(e: EventWire): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (k: string, v: string) => {
    if (Object.keys(out).length < MAX_LABELS && k !== '') out[clip(k, 253)] = clip(v, 256);
  };
  const raw = e.fields['k8s.pod.labels'];
  const items = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? raw.split(', ') : [];
  for (const item of items) {
    const i = item.indexOf(':');
    if (i > 0) put(item.slice(0, i).trim(), item.slice(i + 1).trim());
  }
  for (const key of Object.keys(e.fields)) {
    const m = /^k8s\.pod\.label\[(.+)\]$/.exec(key) ?? /^k8s\.pod\.label\.(.+)$/.exec(key);
    const v = fieldText(e, key);
    if (m?.[1] !== undefined && v !== undefined) put(m[1], v);
  }
  return out;
}

/** What the latest events say (newest first): namespace, pod, container, image, node, labels. */
export function contextFromEvents(events: readonly EventWire[], why: string | undefined): WorkloadContext {
  const latest = events[0];
  if (latest === undefined) {
    return {
      source: 'none',
      ownerChain: [],
      containers: [],
      labels: {},
      annotations: {},
      ...(why !== undefined ? { kubernetesError: why } : {}),
      eventsSeen: 0,
    };
  }
  const w = latest.workload;
  const containers = new Map<string, string | undefined>();
  for (const e of events) {
    const name = e.workload.container ?? fieldText(e, 'container.name');
    if (name !== undefined && !containers.has(name) && containers.size < 20) {
      containers.set(name, e.workload.image);
    }
  }
  const ownerKind = (['deployment', 'statefulset', 'daemonset', 'rs'] as const).find(
    (k) => fieldText(latest, `k8s.${k}.name`) !== undefined,
  );
  const kindName = {
    deployment: 'Deployment',
    statefulset: 'StatefulSet',
    daemonset: 'DaemonSet',
    rs: 'ReplicaSet',
  };
  const owner = ownerKind
    ? { kind: kindName[ownerKind], name: clip(fieldText(latest, `k8s.${ownerKind}.name`) ?? '', 253) }
    : undefined;
  return {
    source: 'events',
    workloadKey: w.key,
    ...(w.namespace !== undefined ? { namespace: w.namespace } : {}),
    ...(w.pod !== undefined ? { pod: w.pod } : {}),
    node: clip(latest.hostname, 253),
    ...(owner ? { owner } : {}),
    ownerChain: owner ? [owner] : [],
    containers: [...containers].map(([name, image]) => ({
      name: clip(name, 253),
      ...(image !== undefined ? { image: clip(image, 512) } : {}),
    })),
    ...(w.image !== undefined ? { image: clip(w.image, 512) } : {}),
    labels: labelsFromFields(latest),
    annotations: {},
    ...(why !== undefined ? { kubernetesError: why } : {}),
    eventsSeen: events.length,
  };
}
