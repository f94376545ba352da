/**
 * The prompts in use, one per (agent, name), fed by a source (folder or
 * cluster) one resource at a time. A resource is identified by a key the
 * source chooses (`<file>#<metadata.name>`, `<namespace>/<name>`). An invalid
 * resource is refused and the prompt it provided before stays; a valid one
 * replaces it in one step (readers see the old or the new prompt, never a
 * mix); a removed one is dropped. A changed spec must carry a new version:
 * every LLM call records name, version and hash, and one version must mean
 * one text.
 */
import type { Logger } from '../telemetry/logger.ts';
import { silentLogger } from '../telemetry/logger.ts';
import type { PromptMetrics } from './metrics.ts';
import type { LoadedPrompt, PromptSource } from './types.ts';
import { formatProblems, type PromptValidation } from './validate.ts';

export type PromptRefusal = 'InvalidSpec' | 'VersionNotBumped' | 'Conflict' | 'Unreadable';

/** What the source reports back (the cluster source writes it to the object's status). */
export interface PromptResourceStatus {
  readonly key: string;
  readonly origin: string;
  readonly accepted: boolean;
  /** `Accepted`, or why the current spec was refused. */
  readonly reason: 'Accepted' | PromptRefusal;
  readonly message: string;
  /** Hash of the spec of this resource in use (after a refusal: the previous accepted one, if any). */
  readonly hash?: string;
  /** The prompt of this resource in use, if any. */
  readonly prompt?: LoadedPrompt;
}

export type PromptChange =
  | { readonly kind: 'set'; readonly prompt: LoadedPrompt; readonly previous?: LoadedPrompt }
  | { readonly kind: 'removed'; readonly prompt: LoadedPrompt };

const promptKey = (p: { agent: string; name: string }) => `${p.agent}/${p.name}`;
const label = (p: LoadedPrompt) => ({ agent: p.agent, name: p.name, version: p.version, hash: p.hash });

export interface PromptRegistryOptions {
  readonly logger?: Logger;
  readonly metrics?: PromptMetrics;
}

export class PromptRegistry implements PromptSource {
  private readonly logger: Logger;
  private readonly metrics: PromptMetrics | undefined;
  /** Resource key → the prompt it provides. */
  private readonly byResource = new Map<string, LoadedPrompt>();
  /** `agent/name` → resource key that provides it. */
  private readonly owners = new Map<string, string>();
  private readonly statusByResource = new Map<string, PromptResourceStatus>();
  /** The last validation of every resource, to retry a refused one when the resource it conflicted with goes away. */
  private readonly lastSeen = new Map<string, { origin: string; validation: PromptValidation }>();
  private readonly listeners = new Set<(change: PromptChange) => void>();

  constructor(options: PromptRegistryOptions = {}) {
    this.logger = options.logger ?? silentLogger();
    this.metrics = options.metrics;
  }

  get(agent: string, name: string): LoadedPrompt | undefined {
    const key = this.owners.get(`${agent}/${name}`);
    return key === undefined ? undefined : this.byResource.get(key);
  }

  list(): LoadedPrompt[] {
    return [...this.byResource.values()].sort((a, b) => promptKey(a).localeCompare(promptKey(b)));
  }

  /** Status of every resource seen (accepted or refused), by key. */
  statuses(): PromptResourceStatus[] {
    return [...this.statusByResource.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  status(key: string): PromptResourceStatus | undefined {
    return this.statusByResource.get(key);
  }

  /** Resource keys currently known (accepted or refused). */
  keys(): string[] {
    return [...this.statusByResource.keys()];
  }

  /** Called after every change of the prompts in use; returns an unsubscribe function. */
  onChange(listener: (change: PromptChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies the latest version of one resource: accepted, unchanged, or refused. */
  apply(key: string, origin: string, validation: PromptValidation): PromptResourceStatus {
    this.lastSeen.set(key, { origin, validation });
    const previous = this.byResource.get(key);
    if (!validation.ok) {
      return this.refuse(key, origin, 'InvalidSpec', formatProblems(origin, validation.problems));
    }
    const prompt = validation.prompt;
    const pk = promptKey(prompt);
    const owner = this.owners.get(pk);
    if (owner !== undefined && owner !== key) {
      const other = this.statusByResource.get(owner)?.origin ?? owner;
      return this.refuse(key, origin, 'Conflict', `prompt ${pk} is already defined by ${other}`);
    }
    if (previous !== undefined && previous.hash === prompt.hash) {
      this.metrics?.loads.inc({ outcome: 'unchanged' });
      return this.setStatus(key, origin, true, 'Accepted', `in use: ${pk} ${prompt.version}`, previous);
    }
    if (previous !== undefined && promptKey(previous) === pk && previous.version === prompt.version) {
      return this.refuse(
        key,
        origin,
        'VersionNotBumped',
        `${origin}: spec.version: the spec of ${pk} changed but its version is still ${prompt.version}; give the change a new version`,
      );
    }
    // Accept: one synchronous swap, so readers never see a half-applied change.
    if (previous !== undefined) {
      this.metrics?.info.remove(label(previous));
      if (promptKey(previous) !== pk) this.owners.delete(promptKey(previous));
    }
    this.byResource.set(key, prompt);
    this.owners.set(pk, key);
    this.metrics?.info.set(label(prompt), 1);
    this.metrics?.loads.inc({ outcome: 'accepted' });
    this.logger.info(
      { prompt: pk, version: prompt.version, hash: prompt.hash, origin, previousVersion: previous?.version },
      previous === undefined ? 'prompt loaded' : 'prompt reloaded',
    );
    const status = this.setStatus(key, origin, true, 'Accepted', `in use: ${pk} ${prompt.version}`, prompt);
    this.emit({ kind: 'set', prompt, ...(previous !== undefined ? { previous } : {}) });
    // A prompt renamed away frees its old name: a resource refused for that conflict may now be accepted.
    if (previous !== undefined && promptKey(previous) !== pk) this.retryConflicts(promptKey(previous));
    return status;
  }

  /** A resource that could not be read at all (e.g. a YAML syntax error): refused, its previous prompt stays. */
  refuseUnreadable(key: string, origin: string, message: string): PromptResourceStatus {
    return this.refuse(key, origin, 'Unreadable', message);
  }

  /** The resource is gone: its prompt (if any) stops being served. */
  remove(key: string): void {
    const previous = this.byResource.get(key);
    const hadStatus = this.statusByResource.delete(key);
    this.lastSeen.delete(key);
    this.updateRefusedGauge();
    if (previous === undefined) {
      if (hadStatus) this.logger.info({ resource: key }, 'refused prompt resource removed');
      return;
    }
    const pk = promptKey(previous);
    this.byResource.delete(key);
    if (this.owners.get(pk) === key) this.owners.delete(pk);
    this.metrics?.info.remove(label(previous));
    this.metrics?.loads.inc({ outcome: 'removed' });
    this.logger.info({ prompt: pk, version: previous.version, origin: previous.origin }, 'prompt removed');
    this.emit({ kind: 'removed', prompt: previous });
    this.retryConflicts(pk);
  }

  private retryConflicts(pk: string): void {
    for (const [key, seen] of [...this.lastSeen]) {
      const status = this.statusByResource.get(key);
      if (status?.reason !== 'Conflict' || !seen.validation.ok) continue;
      if (promptKey(seen.validation.prompt) === pk) this.apply(key, seen.origin, seen.validation);
    }
  }

  private refuse(key: string, origin: string, reason: PromptRefusal, message: string): PromptResourceStatus {
    const kept = this.byResource.get(key);
    this.metrics?.loads.inc({ outcome: 'refused' });
    this.logger.warn(
      { resource: key, origin, reason, problems: message, keptVersion: kept?.version },
      kept === undefined ? 'prompt refused' : 'prompt refused; the previous version stays in use',
    );
    const suffix = kept === undefined ? '' : `\n(still in use: ${promptKey(kept)} ${kept.version})`;
    return this.setStatus(key, origin, false, reason, message + suffix, kept);
  }

  private setStatus(
    key: string,
    origin: string,
    accepted: boolean,
    reason: PromptResourceStatus['reason'],
    message: string,
    inUse: LoadedPrompt | undefined,
  ): PromptResourceStatus {
    const status: PromptResourceStatus = Object.freeze({
      key,
      origin,
      accepted,
      reason,
      message,
      ...(inUse !== undefined ? { hash: inUse.hash, prompt: inUse } : {}),
    });
    this.statusByResource.set(key, status);
    this.updateRefusedGauge();
    return status;
  }

  private updateRefusedGauge(): void {
    if (this.metrics === undefined) return;
    let refused = 0;
    for (const s of this.statusByResource.values()) if (!s.accepted) refused++;
    this.metrics.refusedResources.set(refused);
  }

  private emit(change: PromptChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        // A failing listener must not stop the registry from serving the others.
        this.logger.error({ err }, 'prompt change listener failed');
      }
    }
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
