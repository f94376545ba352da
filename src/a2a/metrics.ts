/** Prometheus metrics of the A2A server and client. Labels are bounded: unknown skills count as "unknown". */
import { Counter, Histogram, type Registry } from 'prom-client';

export type ServerOutcome =
  | 'ok'
  | 'replayed'
  | 'forbidden'
  | 'unknown_skill'
  | 'invalid_input'
  | 'invalid_output'
  | 'failed'
  | 'malformed'
  | 'too_large'
  | 'rejected';

export interface A2aServerMetrics {
  readonly requests: Counter<'skill' | 'outcome'>;
  readonly duration: Histogram<'skill' | 'outcome'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createServerMetrics(registry: Registry): A2aServerMetrics {
  const requests = getOrCreate(
    registry,
    'falconer_a2a_requests_total',
    () =>
      new Counter({
        name: 'falconer_a2a_requests_total',
        help: 'A2A requests served, by skill (or "unknown", "-" before one is known) and outcome.',
        labelNames: ['skill', 'outcome'] as const,
        registers: [registry],
      }),
  );
  const duration = getOrCreate(
    registry,
    'falconer_a2a_request_duration_seconds',
    () =>
      new Histogram({
        name: 'falconer_a2a_request_duration_seconds',
        help: 'Time to answer an A2A skill call, by skill and outcome.',
        labelNames: ['skill', 'outcome'] as const,
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
        registers: [registry],
      }),
  );
  return { requests, duration };
}

export interface A2aClientMetrics {
  readonly calls: Counter<'target' | 'skill' | 'outcome'>;
  readonly retries: Counter<'target' | 'skill'>;
  readonly duration: Histogram<'target' | 'skill' | 'outcome'>;
}

export function createClientMetrics(registry: Registry): A2aClientMetrics {
  const calls = getOrCreate(
    registry,
    'falconer_a2a_client_calls_total',
    () =>
      new Counter({
        name: 'falconer_a2a_client_calls_total',
        help: 'A2A skill calls made, by target agent, skill and outcome (ok or the error code).',
        labelNames: ['target', 'skill', 'outcome'] as const,
        registers: [registry],
      }),
  );
  const retries = getOrCreate(
    registry,
    'falconer_a2a_client_retries_total',
    () =>
      new Counter({
        name: 'falconer_a2a_client_retries_total',
        help: 'A2A call attempts retried after a connection error or 5xx.',
        labelNames: ['target', 'skill'] as const,
        registers: [registry],
      }),
  );
  const duration = getOrCreate(
    registry,
    'falconer_a2a_client_call_duration_seconds',
    () =>
      new Histogram({
        name: 'falconer_a2a_client_call_duration_seconds',
        help: 'Time for an A2A skill call, retries included.',
        labelNames: ['target', 'skill', 'outcome'] as const,
        buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
        registers: [registry],
      }),
  );
  return { calls, retries, duration };
}
