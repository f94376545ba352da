/**
 * openPromptSource: the one entry point agents use. `prompts.kubernetes`
 * set → the cluster source (informer on the namespace's AgentPrompts, status
 * written back); otherwise the folder source on `prompts.dir` (default:
 * deploy/prompts of the package, which is what `falconer up` ships).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Logger } from '../telemetry/logger.ts';
import { silentLogger } from '../telemetry/logger.ts';
import { ClusterPromptSource } from './cluster-source.ts';
import { DEFAULT_PROMPTS_DIR, type PromptsConfig } from './config.ts';
import { FolderPromptSource } from './folder-source.ts';
import { PromptMetrics } from './metrics.ts';
import { PromptRegistry, type PromptChange, type PromptResourceStatus } from './registry.ts';
import type { LoadedPrompt, PromptSource } from './types.ts';

export interface OpenPromptSourceOptions {
  readonly config?: PromptsConfig;
  readonly logger?: Logger;
  /** Where falconer_prompt_* metrics go; none when absent. */
  readonly metrics?: Registry;
  /** Cluster mode: defaults to the in-cluster service account or $KUBECONFIG (KubeConfig.loadFromDefault). */
  readonly kubeConfig?: KubeConfig;
  /** Folder mode: watch tuning (tests). */
  readonly debounceMs?: number;
  readonly rescanMs?: number;
  readonly watch?: boolean;
}

export interface OpenedPromptSource extends PromptSource {
  readonly kind: 'folder' | 'cluster';
  /** Folder path or namespace. */
  readonly location: string;
  readonly registry: PromptRegistry;
  /** Accepted/refused state of every resource seen. */
  statuses(): PromptResourceStatus[];
  onChange(listener: (change: PromptChange) => void): () => void;
  /** Folder: rescan now (e.g. on SIGHUP). Cluster: wait for the status writes queued so far. */
  refresh(): Promise<void>;
}

class Opened implements OpenedPromptSource {
  constructor(
    readonly kind: 'folder' | 'cluster',
    readonly location: string,
    readonly registry: PromptRegistry,
    private readonly source: FolderPromptSource | ClusterPromptSource,
  ) {}

  refresh(): Promise<void> {
    return this.source instanceof FolderPromptSource ? this.source.rescan() : this.source.settled();
  }

  get(agent: string, name: string): LoadedPrompt | undefined {
    return this.registry.get(agent, name);
  }

  list(): LoadedPrompt[] {
    return this.registry.list();
  }

  statuses(): PromptResourceStatus[] {
    return this.registry.statuses();
  }

  onChange(listener: (change: PromptChange) => void): () => void {
    return this.registry.onChange(listener);
  }

  async close(): Promise<void> {
    await this.source.close();
    await this.registry.close();
  }
}

export async function openPromptSource(options: OpenPromptSourceOptions = {}): Promise<OpenedPromptSource> {
  const logger = (options.logger ?? silentLogger()).child({ component: 'prompts' });
  const registry = new PromptRegistry({
    logger,
    ...(options.metrics !== undefined ? { metrics: new PromptMetrics(options.metrics) } : {}),
  });
  const kubernetes = options.config?.kubernetes;
  if (kubernetes !== undefined) {
    let kubeConfig = options.kubeConfig;
    if (kubeConfig === undefined) {
      kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
    }
    const source = await ClusterPromptSource.open({
      kubeConfig,
      namespace: kubernetes.namespace,
      registry,
      logger,
    });
    return new Opened('cluster', kubernetes.namespace, registry, source);
  }
  const dir = options.config?.dir ?? DEFAULT_PROMPTS_DIR;
  const source = await FolderPromptSource.open({
    dir,
    registry,
    logger,
    ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
    ...(options.rescanMs !== undefined ? { rescanMs: options.rescanMs } : {}),
    ...(options.watch !== undefined ? { watch: options.watch } : {}),
  });
  return new Opened('folder', dir, registry, source);
}
