/**
 * Finds the workload that owns a pod (ReplicaSet → its Deployment), with
 * its current replicas, for scale-owner-to-zero. The remediate agent calls
 * it before proposeActions; the pod's ownerReferences are set by the API
 * server, not by the event, so they can be trusted.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeObjects } from './kube.ts';
import type { Plain } from './kube.ts';

export interface PodOwner {
  kind: string;
  name: string;
  replicas: number;
}

/** The controller in an object's ownerReferences (set by the API server, not by an event). */
export function controllerRef(obj: Plain): { kind: string; name: string } | undefined {
  const refs = ((obj.metadata ?? {}) as Plain).ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  const ref = refs.find((r) => typeof r === 'object' && r !== null && (r as Plain).controller === true) as
    Plain | undefined;
  return ref && typeof ref.kind === 'string' && typeof ref.name === 'string'
    ? { kind: ref.kind, name: ref.name }
    : undefined;
}

function replicasOf(obj: Plain): number {
  const r = ((obj.spec ?? {}) as Plain).replicas;
  return typeof r === 'number' ? r : 1;
}

/** The scalable owner of the pod, or undefined (bare pod, DaemonSet, Job…). */
export async function resolvePodOwner(
  kc: KubeConfig,
  namespace: string,
  pod: string,
): Promise<PodOwner | undefined> {
  const kube = new KubeObjects(kc);
  const p = await kube.read({ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace } });
  const ref = p && controllerRef(p);
  if (!ref) return undefined;
  if (ref.kind === 'StatefulSet' || ref.kind === 'ReplicaSet') {
    const owner = await kube.read({
      apiVersion: 'apps/v1',
      kind: ref.kind,
      metadata: { name: ref.name, namespace },
    });
    if (!owner) return undefined;
    const parent = ref.kind === 'ReplicaSet' ? controllerRef(owner) : undefined;
    if (parent?.kind === 'Deployment') {
      const dep = await kube.read({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: parent.name, namespace },
      });
      if (dep) return { kind: 'Deployment', name: parent.name, replicas: replicasOf(dep) };
    }
    return { kind: ref.kind, name: ref.name, replicas: replicasOf(owner) };
  }
  return undefined;
}
