/**
 * Falco alert (any JSON value) → NormalizedEvent, or FalconerError('EVENT_SCHEMA')
 * saying where and why. The hot path is parseAlertFast; the zod schema decides
 * whatever the fast path does not vouch for, and words the error.
 */
import { FalconerError } from '../errors.ts';
import { FalcoEvent } from './event.ts';
import { createFalcoAlertSchema, FalcoAlertSchema, type FalcoAlert } from './falco-alert.ts';
import { buildAlertFast, parseAlertFast, type FastAlertBuilder } from './falco-alert-fast.ts';
import { DEFAULT_EVENT_LIMITS, resolveEventLimits, type EventLimits } from './limits.ts';
import { priorityLevel } from './priority.ts';
import { schemaErrorDetail } from './schema-error.ts';
import { parseRfc3339 } from './time.ts';
import type { NormalizedEvent } from './types.ts';
import { PodKeyCache, UNKNOWN_HOST, WorkloadCache, workloadOf, type WorkloadOptions } from './workload.ts';

export interface NormalizeOptions extends WorkloadOptions {
  readonly limits?: Partial<EventLimits>;
}

export type Normalizer = (raw: unknown) => NormalizedEvent;

/** The validated alert, via the fast path or the schema; throws EVENT_SCHEMA with path and reason. */
export function validateAlert(
  raw: unknown,
  limits: EventLimits = DEFAULT_EVENT_LIMITS,
  schema = limits === DEFAULT_EVENT_LIMITS ? FalcoAlertSchema : createFalcoAlertSchema(limits),
): FalcoAlert {
  const fast = parseAlertFast(raw, limits);
  if (fast !== undefined) return fast;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const { path, reason } = schemaErrorDetail(result.error);
  throw new FalconerError('EVENT_SCHEMA', `invalid Falco alert at ${path}: ${reason}`, { path, reason });
}

/** A normalizer with its options resolved once: use this on hot paths. */
export function createNormalizer(opts: NormalizeOptions = {}): Normalizer {
  const limits = resolveEventLimits(opts.limits);
  const schema = limits === DEFAULT_EVENT_LIMITS ? FalcoAlertSchema : createFalcoAlertSchema(limits);
  const workloadOpts: WorkloadOptions = {
    ...(opts.cluster !== undefined && { cluster: opts.cluster }),
    ...(opts.clusterFields !== undefined && { clusterFields: opts.clusterFields }),
    keyCache: new PodKeyCache(),
    workloadCache: new WorkloadCache(),
  };
  // The fast path builds the event straight from the validated values (no intermediate alert);
  // an alert the schema had to vouch for goes through the same builder.
  const toEvent = eventBuilder(workloadOpts);
  return (raw) => {
    const fast = buildAlertFast(raw, limits, toEvent);
    if (fast !== undefined) return fast;
    const a = validateAlert(raw, limits, schema);
    return toEvent(
      a.output,
      a.priority,
      a.rule,
      a.source,
      a.tags,
      a.time,
      parseRfc3339(a.time),
      a.output_fields,
      a.hostname,
      a.uuid,
    );
  };
}

/** Builds the normalized event from an alert's validated values. */
function eventBuilder(workloadOpts: WorkloadOptions): FastAlertBuilder<NormalizedEvent> {
  return (output, priority, rule, source, tags, time, timeMs, fields, hostname) => {
    const host = hostname !== undefined && hostname.length > 0 ? hostname : UNKNOWN_HOST;
    return new FalcoEvent(
      timeMs,
      time,
      rule,
      priority,
      priorityLevel(priority),
      source,
      host,
      tags,
      output,
      fields,
      workloadOf(fields, host, source, workloadOpts),
    );
  };
}

const defaultNormalizer = createNormalizer();

/**
 * One alert as parsed from JSON. Object and array values of the result are the
 * input's own (not copied): treat the input as handed over.
 */
export function normalizeAlert(raw: unknown, opts?: NormalizeOptions): NormalizedEvent {
  return opts === undefined ? defaultNormalizer(raw) : createNormalizer(opts)(raw);
}
