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
import { parseRfc3339 } from './time.ts';
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
  let count = 0;
  for (const key in fields) {
    // zod drops a "__proto__" key from records; leave such objects to zod so both agree.
    if (++count > limits.maxFields || key.length > limits.maxFieldNameLength || key === '__proto__') {
      return false;
    }
    const v = fields[key];
    // Strings first: most values are.
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) return false;
    } else if (Array.isArray(v)) {
      if (v.length > limits.maxListLength) return false;
      for (let i = 0; i < v.length; i++) if (!isScalar(v[i], limits.maxStringLength)) return false;
    } else if (!isScalar(v, limits.maxStringLength)) {
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
 * What checkAlertFast vouched for, with the schema's defaults applied: a scratch record reused
 * from event to event (the normalizer builds its event from it without an intermediate alert).
 */
export interface FastAlertParts {
  output: string;
  priority: Priority;
  rule: string;
  source: string;
  tags: readonly string[];
  time: string;
  /** Epoch ms of `time` (validated: never NaN). */
  timeMs: number;
  fields: Readonly<Record<string, FieldValue>>;
  hostname: string | undefined;
  uuid: string | undefined;
}

export function createFastAlertParts(): FastAlertParts {
  return {
    output: '',
    priority: 'Debug',
    rule: '',
    source: DEFAULT_SOURCE,
    tags: EMPTY_TAGS,
    time: '',
    timeMs: 0,
    fields: EMPTY_FIELDS,
    hostname: undefined,
    uuid: undefined,
  };
}

/**
 * Whether the fast path vouches for `raw` (false: ask the schema); when it does, `parts` holds the
 * alert's values as FalcoAlertSchema would give them.
 */
export function checkAlertFast(raw: unknown, limits: EventLimits, parts: FastAlertParts): boolean {
  if (!isPlainRecord(raw)) return false;
  const max = limits.maxStringLength;

  const p = raw.priority;
  if (typeof p !== 'string' || p.length > MAX_PRIORITY_LENGTH) return false;
  const priority = parsePriority(p);
  if (priority === undefined) return false;

  const rule = raw.rule;
  if (typeof rule !== 'string' || rule.length === 0 || rule.length > max) return false;

  const time = raw.time;
  if (typeof time !== 'string' || time.length > max) return false;
  const timeMs = parseRfc3339(time);
  if (timeMs !== timeMs) return false;

  let output = raw.output;
  if (output === undefined) output = '';
  else if (typeof output !== 'string' || output.length > max) return false;

  const hostname = raw.hostname;
  if (hostname !== undefined && (typeof hostname !== 'string' || hostname.length > max)) return false;

  let source = raw.source;
  if (source === undefined) source = DEFAULT_SOURCE;
  else if (typeof source !== 'string' || source.length === 0 || source.length > max) return false;

  let tags = raw.tags;
  if (tags === undefined || tags === null) tags = EMPTY_TAGS;
  else if (!Array.isArray(tags) || !validTags(tags, limits)) return false;

  let fields = raw.output_fields;
  if (fields === undefined || fields === null) fields = EMPTY_FIELDS;
  else if (!isPlainRecord(fields) || !validFields(fields, limits)) return false;

  const uuid = raw.uuid;
  if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length > max)) return false;

  parts.output = output as string;
  parts.priority = priority;
  parts.rule = rule;
  parts.source = source as string;
  parts.tags = tags as readonly string[];
  parts.time = time;
  parts.timeMs = timeMs;
  parts.fields = fields as Readonly<Record<string, FieldValue>>;
  parts.hostname = hostname;
  parts.uuid = uuid;
  return true;
}

const scratch = createFastAlertParts();

/** The validated alert, or undefined when the fast path cannot vouch for it (ask the schema). */
export function parseAlertFast(raw: unknown, limits: EventLimits): FalcoAlert | undefined {
  if (!checkAlertFast(raw, limits, scratch)) return undefined;
  const alert: {
    -readonly [K in keyof FalcoAlert]: FalcoAlert[K];
  } = {
    output: scratch.output,
    priority: scratch.priority,
    rule: scratch.rule,
    source: scratch.source,
    tags: scratch.tags,
    time: scratch.time,
    output_fields: scratch.fields,
  };
  if (scratch.hostname !== undefined) alert.hostname = scratch.hostname;
  if (scratch.uuid !== undefined) alert.uuid = scratch.uuid;
  return alert;
}
