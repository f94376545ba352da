/**
 * Hot-path validator for Falco alerts: accepts a subset of what FalcoAlertSchema
 * (falco-alert.ts) accepts and returns the same value for it, at a fraction of
 * zod's cost. Anything it does not accept goes to the zod schema, which gives the
 * authoritative verdict and the located error, so the set of accepted alerts is
 * exactly the schema's. test/unit/events-fast-validator.test.ts checks the
 * equivalence with fast-check over generated valid and mutated alerts.
 */
import { DEFAULT_SOURCE, MAX_PRIORITY_LENGTH, type FalcoAlert } from './falco-alert.ts';
import type { EventLimits } from './limits.ts';
import { parsePriority } from './priority.ts';
import { parseRfc3339Once } from './time.ts';
import type { FieldValue, Priority } from './types.ts';

const EMPTY_FIELDS: Readonly<Record<string, FieldValue>> = Object.freeze({});
const EMPTY_TAGS: readonly string[] = Object.freeze([]);
const OBJECT_PROTO = Object.prototype;

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === OBJECT_PROTO || proto === null;
}

function isScalar(v: unknown, maxString: number): boolean {
  switch (typeof v) {
    case 'string':
      return v.length <= maxString;
    case 'number':
      return Number.isFinite(v);
    case 'boolean':
      return true;
    case 'object':
      return v === null;
    default:
      return false;
  }
}

function validFields(fields: Record<string, unknown>, limits: EventLimits): boolean {
  // The limits in locals: the loop below runs for every field of every event.
  const maxFields = limits.maxFields;
  const maxName = limits.maxFieldNameLength;
  const maxString = limits.maxStringLength;
  let count = 0;
  for (const key in fields) {
    // zod drops a "__proto__" key from records; leave such objects to zod so both agree.
    if (++count > maxFields || key.length > maxName || key === '__proto__') return false;
    const v = fields[key];
    // Strings first: most values are.
    if (typeof v === 'string') {
      if (v.length > maxString) return false;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (Array.isArray(v)) {
      if (v.length > limits.maxListLength) return false;
      for (let i = 0; i < v.length; i++) if (!isScalar(v[i], maxString)) return false;
    } else if (!isScalar(v, maxString)) {
      return false;
    }
  }
  return true;
}

function validTags(tags: unknown[], limits: EventLimits): boolean {
  if (tags.length > limits.maxTags) return false;
  for (let i = 0; i < tags.length; i++) {
    const t = tags[i];
    if (typeof t !== 'string' || t.length > limits.maxStringLength) return false;
  }
  return true;
}

/**
 * Receives what buildAlertFast vouched for, with the schema's defaults applied (timeMs is the
 * epoch ms of `time`, never NaN), and builds the caller's value from it. Passing the values as
 * arguments (rather than through a reused scratch object) keeps them out of long-lived objects:
 * the event built from them is as young as they are.
 */
export type FastAlertBuilder<T> = (
  output: string,
  priority: Priority,
  rule: string,
  source: string,
  tags: readonly string[],
  time: string,
  timeMs: number,
  fields: Readonly<Record<string, FieldValue>>,
  hostname: string | undefined,
  uuid: string | undefined,
) => T;

/** build(...) of the validated alert, or undefined when the fast path cannot vouch for it (ask the schema). */
export function buildAlertFast<T>(
  raw: unknown,
  limits: EventLimits,
  build: FastAlertBuilder<T>,
): T | undefined {
  if (!isPlainRecord(raw)) return undefined;
  const max = limits.maxStringLength;

  const p = raw.priority;
  if (typeof p !== 'string' || p.length > MAX_PRIORITY_LENGTH) return undefined;
  const priority = parsePriority(p);
  if (priority === undefined) return undefined;

  const rule = raw.rule;
  if (typeof rule !== 'string' || rule.length === 0 || rule.length > max) return undefined;

  const time = raw.time;
  if (typeof time !== 'string' || time.length > max) return undefined;
  const timeMs = parseRfc3339Once(time);
  if (timeMs !== timeMs) return undefined;

  let output = raw.output;
  if (output === undefined) output = '';
  else if (typeof output !== 'string' || output.length > max) return undefined;

  const hostname = raw.hostname;
  if (hostname !== undefined && (typeof hostname !== 'string' || hostname.length > max)) return undefined;

  let source = raw.source;
  if (source === undefined) source = DEFAULT_SOURCE;
  else if (typeof source !== 'string' || source.length === 0 || source.length > max) return undefined;

  let tags = raw.tags;
  if (tags === undefined || tags === null) tags = EMPTY_TAGS;
  else if (!Array.isArray(tags) || !validTags(tags, limits)) return undefined;

  let fields = raw.output_fields;
  if (fields === undefined || fields === null) fields = EMPTY_FIELDS;
  else if (!isPlainRecord(fields) || !validFields(fields, limits)) return undefined;

  const uuid = raw.uuid;
  if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length > max)) return undefined;

  return build(
    output as string,
    priority,
    rule,
    source as string,
    tags as readonly string[],
    time,
    timeMs,
    fields as Readonly<Record<string, FieldValue>>,
    hostname,
    uuid,
  );
}

/** The plain alert object, for callers that want the alert itself. */
const toAlert: FastAlertBuilder<FalcoAlert> = (
  output,
  priority,
  rule,
  source,
  tags,
  time,
  _timeMs,
  fields,
  hostname,
  uuid,
) => {
  const alert: {
    -readonly [K in keyof FalcoAlert]: FalcoAlert[K];
  } = { output, priority, rule, source, tags, time, output_fields: fields };
  if (hostname !== undefined) alert.hostname = hostname;
  if (uuid !== undefined) alert.uuid = uuid;
  return alert;
};

/** The validated alert, or undefined when the fast path cannot vouch for it (ask the schema). */
export function parseAlertFast(raw: unknown, limits: EventLimits): FalcoAlert | undefined {
  return buildAlertFast(raw, limits, toAlert);
}
