/**
 * AgentPrompts watched in one namespace of a cluster with
 * @kubernetes/client-node's informer (list, then watch from the list's
 * resourceVersion; relist on 410 Gone). Every add/update is validated and
 * applied to the registry, and the outcome is written back through the status
 * subresource (merge patch): the Accepted condition, the hash in use and the
 * observed generation, so `kubectl get agentprompts` shows a refused prompt.
 */
import {
  ApiException,
  CustomObjectsApi,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import { canonicalJson } from '../a2a/canonical.ts';
import { FalconerError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { silentLogger } from '../telemetry/logger.ts';
import './errors.ts';
import type { PromptRegistry, PromptResourceStatus } from './registry.ts';
import type { LoadedPrompt, PromptSource } from './types.ts';
import { validatePromptObject } from './validate.ts';

const GROUP = 'falconer.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'agentprompts';
/** Kubernetes caps condition messages at 32 KiB; ours stay far shorter. */
const MAX_MESSAGE = 4096;

export interface ClusterCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface AgentPromptResource extends KubernetesObject {
  spec?: unknown;
  status?: { hash?: string; observedGeneration?: number; conditions?: ClusterCondition[] };
}

export interface ClusterPromptSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly registry: PromptRegistry;
  readonly logger?: Logger;
  /** Write the outcome to each object's status (needs `patch` on agentprompts/status). Default true. */
  readonly writeStatus?: boolean;
  /** Restart delay after the watch fails, doubled up to `max`. */
  readonly restartBackoffMs?: { readonly base: number; readonly max: number };
  /** Clock for lastTransitionTime (tests). */
  readonly now?: () => Date;
}

function truncate(text: string): string {
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 20)}… (truncated)`;
}

/** The status the object should carry for this outcome; undefined when it already does. */
export function desiredStatus(
  obj: AgentPromptResource,
  outcome: PromptResourceStatus,
  now: Date,
): AgentPromptResource['status'] | undefined {
  const generation = obj.metadata?.generation;
  const current = obj.status ?? {};
  const previous = current.conditions?.find((c) => c.type === 'Accepted');
  const status = outcome.accepted ? 'True' : 'False';
  const message = truncate(outcome.message);
  const sameCondition =
    previous !== undefined &&
    previous.status === status &&
    previous.reason === outcome.reason &&
    previous.message === message &&
    previous.observedGeneration === generation;
  const hash = outcome.hash ?? current.hash;
  if (sameCondition && current.observedGeneration === generation && current.hash === hash) return undefined;
  const condition: ClusterCondition = {
    type: 'Accepted',
    status,
    reason: outcome.reason,
    message,
    // The time the status flipped, not the time of this write.
    lastTransitionTime:
      previous !== undefined && previous.status === status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return {
    ...(hash !== undefined ? { hash } : {}),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    // A merge patch replaces the list: keep the conditions other writers own.
    conditions: [...(current.conditions ?? []).filter((c) => c.type !== 'Accepted'), condition],
  };
}

export class ClusterPromptSource implements PromptSource {
  readonly registry: PromptRegistry;
  readonly namespace: string;
  private readonly logger: Logger;
  private readonly api: CustomObjectsApi;
  private readonly informer: Informer<AgentPromptResource> & ObjectCache<AgentPromptResource>;
  private readonly writeStatus: boolean;
  private readonly backoff: { base: number; max: number };
  private readonly now: () => Date;
  /** Per-object chain of status writes, so they land in event order. */
  private readonly writes = new Map<string, Promise<void>>();
  /** Per object: what was last validated (the object without status and resourceVersion). */
  private readonly seen = new Map<string, string>();
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private lastError: unknown;
  private listed = false;

  private constructor(options: ClusterPromptSourceOptions) {
    this.registry = options.registry;
    this.namespace = options.namespace;
    this.logger = options.logger ?? silentLogger();
    this.writeStatus = options.writeStatus ?? true;
    this.backoff = { ...(options.restartBackoffMs ?? { base: 1000, max: 30_000 }) };
    this.now = options.now ?? (() => new Date());
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.namespace)}/${PLURAL}`;
    const list = async () => {
      const result = (await this.api.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: PLURAL,
      })) as KubernetesListObject<AgentPromptResource>;
      this.listed = true;
      this.failures = 0;
      return result;
    };
    this.informer = makeInformer<AgentPromptResource>(options.kubeConfig, path, list);
    this.informer.on('add', (obj) => this.upsert(obj));
    this.informer.on('update', (obj) => this.upsert(obj));
    this.informer.on('delete', (obj) => {
      this.seen.delete(this.keyOf(obj));
      this.registry.remove(this.keyOf(obj));
    });
    this.informer.on('error', (err) => this.onWatchError(err));
  }

  /** Lists the namespace's AgentPrompts (fails when the API cannot be reached), then watches them. */
  static async open(options: ClusterPromptSourceOptions): Promise<ClusterPromptSource> {
    const source = new ClusterPromptSource(options);
    await source.informer.start();
    if (!source.listed) {
      const err = source.lastError;
      await source.close();
      throw new FalconerError(
        'PROMPT_SOURCE_UNAVAILABLE',
        `cannot list AgentPrompts in namespace ${options.namespace}: ${describeKubeError(err)}`,
        { namespace: options.namespace, status: statusCode(err) },
        { cause: err },
      );
    }
    return source;
  }

  get(agent: string, name: string): LoadedPrompt | undefined {
    return this.registry.get(agent, name);
  }

  list(): LoadedPrompt[] {
    return this.registry.list();
  }

  /** Resolves when every status write queued so far has been made (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes.values()]);
  }

  private keyOf(obj: AgentPromptResource): string {
    return `${obj.metadata?.namespace ?? this.namespace}/${obj.metadata?.name ?? ''}`;
  }

  private upsert(obj: AgentPromptResource): void {
    const key = this.keyOf(obj);
    // Our own status writes come back as MODIFIED events: validate only what the registry has not seen.
    const { status: _status, ...input } = obj;
    const fingerprint = canonicalJson({
      ...input,
      metadata: { ...input.metadata, resourceVersion: undefined, managedFields: undefined },
    });
    const known = this.registry.status(key);
    const outcome =
      known !== undefined && this.seen.get(key) === fingerprint
        ? known
        : this.registry.apply(key, key, validatePromptObject(obj, key));
    this.seen.set(key, fingerprint);
    if (!this.writeStatus) return;
    const patch = desiredStatus(obj, outcome, this.now());
    if (patch === undefined) return;
    const name = obj.metadata?.name ?? '';
    const previous = this.writes.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.patchStatus(name, patch));
    this.writes.set(key, next);
    void next.finally(() => {
      if (this.writes.get(key) === next) this.writes.delete(key);
    });
  }

  private async patchStatus(name: string, status: AgentPromptResource['status']): Promise<void> {
    if (this.closed) return;
    try {
      await this.api.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      const code = statusCode(err);
      if (code === 404) return; // deleted meanwhile
      // Never thrown: the prompt decision stands whether or not its status could be written.
      this.logger.warn(
        { resource: `${this.namespace}/${name}`, status: code, error: describeKubeError(err) },
        code === 403
          ? 'cannot write AgentPrompt status: grant patch on agentprompts/status'
          : 'cannot write AgentPrompt status',
      );
    }
  }

  private onWatchError(err: unknown): void {
    if (this.closed) return; // stop() aborts the watch, which reports an error
    this.lastError = err;
    this.failures++;
    const delay = Math.min(this.backoff.max, this.backoff.base * 2 ** Math.min(this.failures - 1, 16));
    this.logger.warn(
      { namespace: this.namespace, error: describeKubeError(err), retryInMs: delay },
      'AgentPrompt watch failed; the loaded prompts stay, retrying',
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.closed) return;
      this.informer.start().catch((e: unknown) => this.onWatchError(e));
    }, delay);
    this.restartTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.restartTimer);
    await this.informer.stop();
    await Promise.allSettled([...this.writes.values()]);
  }
}

function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** A short description without the response body (which may echo request data). */
function describeKubeError(err: unknown): string {
  if (err instanceof ApiException) return `HTTP ${err.code}`;
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.message;
  return String(err);
}
