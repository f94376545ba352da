import { Registry, collectDefaultMetrics } from 'prom-client';

/** One registry per process (or per test), with Node's process metrics and a common `agent` label. */
export function createMetricsRegistry(opts: { agent: string; processMetrics?: boolean }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ agent: opts.agent });
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'falconer_' });
  return registry;
}
