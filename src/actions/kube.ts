/**
 * The few Kubernetes API calls the executor makes, over
 * @kubernetes/client-node's KubernetesObjectApi (which resolves any kind,
 * CRDs included, through API discovery).
 */
import { ApiException, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './types.ts';

export type Plain = Record<string, unknown>;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

export function refOf(obj: KubeObject | Plain): ObjectRef {
  const meta = (obj.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const ref: ObjectRef = {
    apiVersion: String(obj.apiVersion),
    kind: String(obj.kind),
    metadata: { name: String(meta.name) },
  };
  if (typeof meta.namespace === 'string') ref.metadata.namespace = meta.namespace;
  return ref;
}

/** Deserialized client objects carry Dates; the records we keep are plain JSON. */
function plain(value: unknown): Plain {
  return JSON.parse(JSON.stringify(value)) as Plain;
}

export function kubeStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  return undefined;
}

export class KubeObjects {
  private readonly api: KubernetesObjectApi;
  private readonly fieldManager: string;

  constructor(kc: KubeConfig, fieldManager = 'falconer-remediate') {
    this.api = KubernetesObjectApi.makeApiClient(kc);
    this.fieldManager = fieldManager;
  }

  /** The object, or null when it does not exist. */
  async read(ref: ObjectRef): Promise<Plain | null> {
    try {
      return plain(await this.api.read(ref));
    } catch (err) {
      if (kubeStatusCode(err) === 404) return null;
      throw err;
    }
  }

  /**
   * Whether the API server serves this kind (discovery): is Cilium installed?
   * Probes a name that does not exist in the namespace the action targets,
   * where remediate's RBAC lets it read that kind.
   */
  async serves(apiVersion: string, kind: string, namespace: string): Promise<boolean> {
    try {
      await this.api.read({
        apiVersion,
        kind,
        metadata: { name: 'falconer-discovery-probe', namespace },
      });
      return true;
    } catch (err) {
      if (kubeStatusCode(err) === 404) {
        // 404 from the object (kind served) or from discovery (group/version not served).
        const msg = err instanceof Error ? err.message : '';
        return !msg.includes('Failed to fetch resource metadata');
      }
      if (err instanceof Error && /Unrecognized API version and kind/.test(err.message)) return false;
      throw err;
    }
  }

  async create(obj: Plain, dryRun: boolean): Promise<Plain> {
    return plain(
      await this.api.create(obj as never, undefined, dryRun ? 'All' : undefined, this.fieldManager),
    );
  }

  async mergePatch(obj: Plain, dryRun: boolean): Promise<Plain> {
    return plain(
      await this.api.patch(
        obj as never,
        undefined,
        dryRun ? 'All' : undefined,
        this.fieldManager,
        undefined,
        PatchStrategy.MergePatch,
      ),
    );
  }

  async delete(ref: ObjectRef, dryRun: boolean): Promise<void> {
    await this.api.delete(ref as never, undefined, dryRun ? 'All' : undefined);
  }
}
