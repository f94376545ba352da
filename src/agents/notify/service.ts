/**
 * The notify agent's core, independent of how skills are exposed: build the
 * sinks from config, and `handleNotify(input)` validates the wire input and
 * dispatches. The A2A server calls handleNotify for `incident.notify`.
 */
import type { Registry } from 'prom-client';
import { FalconerError } from '../../errors.ts';
import { NotifyInput, type NotifyOutput } from '../contracts.ts';
import type { NotifyConfig } from './config.ts';
import { MemoryDedupeStore, type DedupeStore } from './dedupe.ts';
import { Dispatcher } from './dispatcher.ts';
import { createNotifier, type SinkContext } from './registry.ts';
import './errors.ts';

export interface NotifyServiceOptions extends SinkContext {
  readonly config: NotifyConfig;
  readonly registry: Registry;
  /** Persistent dedupe (survives restarts); in memory by default. */
  readonly dedupe?: DedupeStore;
}

export interface NotifyService {
  readonly dispatcher: Dispatcher;
  handleNotify(input: unknown): Promise<NotifyOutput>;
  close(): Promise<void>;
}

export function createNotifyService(opts: NotifyServiceOptions): NotifyService {
  const { config } = opts;
  const sinks = config.sinks.map((c) => ({
    notifier: createNotifier(c, opts),
    timeoutMs: c.timeoutMs ?? config.timeoutMs,
    retries: c.retries ?? config.retries,
    ...(c.kinds !== undefined && { kinds: new Set(c.kinds) }),
  }));
  const dispatcher = new Dispatcher({
    sinks,
    registry: opts.registry,
    dedupe:
      opts.dedupe ?? new MemoryDedupeStore({ maxKeys: config.dedupe.maxKeys, ttlMs: config.dedupe.ttlMs }),
    concurrency: config.concurrency,
    queueLimit: config.queueLimit,
    backoffMs: config.backoffMs,
    maxBackoffMs: config.maxBackoffMs,
    maxRetryAfterMs: config.maxRetryAfterMs,
  });
  return {
    dispatcher,
    async handleNotify(input) {
      const parsed = NotifyInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const path = issue === undefined ? '' : issue.path.join('.');
        throw new FalconerError(
          'NOTIFY_INPUT_INVALID',
          `incident.notify input invalid at ${path || '(root)'}: ${issue?.message ?? 'unknown'}`,
          {
            path,
          },
        );
      }
      return dispatcher.notify(parsed.data);
    },
    close: () => dispatcher.close(),
  };
}
