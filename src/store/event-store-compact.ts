/**
 * What the event store keeps of one event: a plain copy within the wire
 * contract's limits (EventWire), cut further to a per-event byte budget, with
 * an estimate of its heap cost. Every field is attacker-controlled, so the
 * store never keeps anything whose size the sender chooses.
 */
import type { EventWire, WorkloadWire } from '../agents/contracts.ts';
import type { FieldValue, NormalizedEvent } from '../events/types.ts';

export interface CompactLimits {
  /** Estimated heap bytes one stored event may take (strings as UTF-16 plus fixed overheads). */
  readonly maxEventBytes: number;
}

/** Fixed costs in the estimate: an object with its hidden class, a property slot, an array. */
const EVENT_OVERHEAD = 400;
const PROPERTY_OVERHEAD = 48;
const STRING_OVERHEAD = 24;

/** The contract's limits (src/agents/contracts.ts), so a stored event always validates as EventWire. */
const WIRE = {
  rule: 512,
  priority: 32,
  source: 64,
  hostname: 255,
  time: 64,
  tag: 128,
  tags: 64,
  output: 16384,
  fieldKey: 256,
  fieldString: 8192,
  list: 256,
} as const;

export function stringCost(s: string): number {
  return STRING_OVERHEAD + 2 * s.length;
}

function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end);
}

const OPTIONAL_WORKLOAD: readonly (readonly [keyof WorkloadWire, number])[] = [
  ['cluster', 128],
  ['namespace', 253],
  ['pod', 253],
  ['container', 253],
  ['containerId', 128],
  ['image', 512],
];

function workloadOf(w: NormalizedEvent['workload']): WorkloadWire {
  const out: Record<string, string> = {
    key: cut(w.key, 600) || '-',
    kind: w.kind,
    host: cut(w.host, 255),
  };
  for (const [k, max] of OPTIONAL_WORKLOAD) {
    const v = w[k as keyof typeof w];
    if (typeof v === 'string') out[k] = cut(v, max);
  }
  return out as unknown as WorkloadWire;
}

function workloadCost(w: WorkloadWire): number {
  let n = EVENT_OVERHEAD / 2;
  for (const v of Object.values(w)) n += PROPERTY_OVERHEAD + (typeof v === 'string' ? stringCost(v) : 0);
  return n;
}

/**
 * Events of one workload share its (immutable) workload object, so its bounded copy and cost are
 * computed once per object; stored events share the copy.
 */
const compactWorkloads = new WeakMap<object, { readonly wire: WorkloadWire; readonly cost: number }>();

function compactWorkload(w: NormalizedEvent['workload']): {
  readonly wire: WorkloadWire;
  readonly cost: number;
} {
  let hit = compactWorkloads.get(w);
  if (hit === undefined) {
    const wire = workloadOf(w);
    hit = { wire, cost: workloadCost(wire) };
    compactWorkloads.set(w, hit);
  }
  return hit;
}

export interface Compacted {
  readonly event: EventWire;
  readonly bytes: number;
  /** Whether anything was cut to fit the budget. */
  readonly truncated: boolean;
}

/** The tags within the contract's limits: the same array when nothing needs cutting. */
function tagsWithin(tags: readonly string[]): string[] {
  let fits = tags.length <= WIRE.tags;
  for (let i = 0; fits && i < tags.length; i++) if ((tags[i] as string).length > WIRE.tag) fits = false;
  if (fits) return tags as string[];
  const out: string[] = [];
  for (const t of tags) {
    if (out.length >= WIRE.tags) break;
    out.push(cut(t, WIRE.tag));
  }
  return out;
}

/**
 * The event's bytes with all its fields when none would be cut or dropped by copyFieldsWithin (the
 * same checks, field by field), else -1. Lists and a `__proto__` key always take the copy.
 */
function fieldsCostIfAllFit(
  fields: Readonly<Record<string, FieldValue>>,
  maxEventBytes: number,
  start: number,
): number {
  let bytes = start;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key) || key === '__proto__') return -1;
    const left = maxEventBytes - bytes - PROPERTY_OVERHEAD;
    if (left <= STRING_OVERHEAD * 2 || key.length > WIRE.fieldKey) return -1;
    const keyCost = stringCost(key);
    const room = Math.floor((left - keyCost - STRING_OVERHEAD) / 2);
    if (room <= 0) return -1;
    const value = fields[key];
    let cost: number;
    if (typeof value === 'string') {
      if (value.length > WIRE.fieldString || value.length > room) return -1;
      cost = stringCost(value);
    } else if (value === null || typeof value === 'number' || typeof value === 'boolean') cost = 8;
    else return -1;
    bytes += PROPERTY_OVERHEAD + keyCost + cost;
  }
  return bytes;
}

/** A copy of the fields in their order while the budget lasts (longest values cut to what is left). */
function copyFieldsWithin(
  source: Readonly<Record<string, FieldValue>>,
  maxEventBytes: number,
  start: number,
): { fields: Record<string, FieldValue>; bytes: number; truncated: boolean } {
  let bytes = start;
  let truncated = false;
  const fields: Record<string, FieldValue> = {};
  for (const [rawKey, value] of Object.entries(source)) {
    const left = maxEventBytes - bytes - PROPERTY_OVERHEAD;
    if (left <= STRING_OVERHEAD * 2) {
      truncated = true;
      break;
    }
    if (rawKey.length > WIRE.fieldKey) {
      truncated = true;
      continue;
    }
    const keyCost = stringCost(rawKey);
    const room = Math.floor((left - keyCost - STRING_OVERHEAD) / 2);
    if (room <= 0) {
      truncated = true;
      break;
    }
    let v: FieldValue;
    let cost: number;
    if (typeof value === 'string') {
      v = cut(value, Math.min(WIRE.fieldString, room));
      if (v.length !== value.length) truncated = true;
      cost = stringCost(v);
    } else if (Array.isArray(value)) {
      const list: (string | number | boolean | null)[] = [];
      cost = 32;
      for (const item of value as readonly (string | number | boolean | null)[]) {
        if (list.length >= WIRE.list || cost >= 2 * room) {
          truncated = true;
          break;
        }
        let x = item;
        if (typeof item === 'string') {
          x = cut(item, Math.min(WIRE.fieldString, Math.max(0, room - cost / 2)));
          if (x.length !== item.length) truncated = true;
        }
        list.push(x);
        cost += 8 + (typeof x === 'string' ? stringCost(x) : 0);
      }
      v = list;
    } else {
      v = value as FieldValue;
      cost = 8;
    }
    // An own property even for a hostile "__proto__" key (plain assignment would set the prototype).
    Object.defineProperty(fields, rawKey, { value: v, enumerable: true, writable: true, configurable: true });
    bytes += PROPERTY_OVERHEAD + keyCost + cost;
  }
  return { fields, bytes, truncated };
}

/**
 * A bounded plain copy: identity and header fields first, then the output and
 * fields in their order while the budget lasts (longest values cut to what is left).
 */
export function compactEvent(e: NormalizedEvent | EventWire, limits: CompactLimits): Compacted {
  const { wire: workload, cost: workloadBytes } = compactWorkload(e.workload);
  const id = e.id;
  const rule = cut(e.rule, WIRE.rule);
  const time = cut(e.time, WIRE.time);
  const priority = cut(e.priority, WIRE.priority);
  const source = cut(e.source, WIRE.source);
  const hostname = cut(e.hostname, WIRE.hostname);
  let truncated =
    rule.length !== e.rule.length ||
    time.length !== e.time.length ||
    priority.length !== e.priority.length ||
    source.length !== e.source.length ||
    hostname.length !== e.hostname.length;
  let bytes =
    EVENT_OVERHEAD +
    workloadBytes +
    6 * PROPERTY_OVERHEAD +
    stringCost(id) +
    stringCost(rule) +
    stringCost(time) +
    stringCost(priority) +
    stringCost(source) +
    stringCost(hostname);

  const tags = tagsWithin(e.tags);
  if (tags.length !== e.tags.length) truncated = true;
  for (const tag of tags) bytes += 8 + stringCost(tag);

  // Output: at most a quarter of the budget (the fields carry the same facts, structured).
  const outputBudget = Math.max(0, Math.floor((limits.maxEventBytes / 4 - STRING_OVERHEAD) / 2));
  const output = cut(e.output, Math.min(WIRE.output, outputBudget));
  if (output.length !== e.output.length) truncated = true;
  bytes += PROPERTY_OVERHEAD + stringCost(output);

  // Nearly every event fits as it is: then its fields object is kept, not copied.
  const fitting = fieldsCostIfAllFit(e.fields, limits.maxEventBytes, bytes);
  let fields: Record<string, FieldValue>;
  if (fitting >= 0) {
    fields = e.fields as Record<string, FieldValue>;
    bytes = fitting;
  } else {
    const copy = copyFieldsWithin(e.fields, limits.maxEventBytes, bytes);
    fields = copy.fields;
    bytes = copy.bytes;
    if (copy.truncated) truncated = true;
  }

  const event: EventWire = {
    id,
    timeMs: e.timeMs,
    time,
    rule,
    priority,
    priorityLevel: e.priorityLevel,
    source,
    hostname,
    tags,
    output,
    fields: fields as EventWire['fields'],
    workload,
  };
  return { event, bytes, truncated };
}
