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

function workloadOf(w: NormalizedEvent['workload']): WorkloadWire {
  const out: Record<string, string> = {
    key: cut(w.key, 600) || '-',
    kind: w.kind,
    host: cut(w.host, 255),
  };
  const optional: [keyof WorkloadWire, number][] = [
    ['cluster', 128],
    ['namespace', 253],
    ['pod', 253],
    ['container', 253],
    ['containerId', 128],
    ['image', 512],
  ];
  for (const [k, max] of optional) {
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

export interface Compacted {
  readonly event: EventWire;
  readonly bytes: number;
  /** Whether anything was cut to fit the budget. */
  readonly truncated: boolean;
}

/**
 * A bounded plain copy: identity and header fields first, then the output and
 * fields in their order while the budget lasts (longest values cut to what is left).
 */
export function compactEvent(e: NormalizedEvent | EventWire, limits: CompactLimits): Compacted {
  let truncated = false;
  const c = (s: string, max: number): string => {
    const r = cut(s, max);
    if (r.length !== s.length) truncated = true;
    return r;
  };
  const workload = workloadOf(e.workload);
  const id = e.id;
  const rule = c(e.rule, WIRE.rule);
  const time = c(e.time, WIRE.time);
  const priority = c(e.priority, WIRE.priority);
  const source = c(e.source, WIRE.source);
  const hostname = c(e.hostname, WIRE.hostname);
  let bytes =
    EVENT_OVERHEAD +
    workloadCost(workload) +
    [id, rule, time, priority, source, hostname].reduce((n, s) => n + PROPERTY_OVERHEAD + stringCost(s), 0);

  const tags: string[] = [];
  for (const t of e.tags) {
    if (tags.length >= WIRE.tags) {
      truncated = true;
      break;
    }
    const tag = c(t, WIRE.tag);
    tags.push(tag);
    bytes += 8 + stringCost(tag);
  }

  // Output: at most a quarter of the budget (the fields carry the same facts, structured).
  const outputBudget = Math.max(0, Math.floor((limits.maxEventBytes / 4 - STRING_OVERHEAD) / 2));
  const output = c(e.output, Math.min(WIRE.output, outputBudget));
  bytes += PROPERTY_OVERHEAD + stringCost(output);

  const fields: Record<string, FieldValue> = {};
  for (const [rawKey, value] of Object.entries(e.fields)) {
    const left = limits.maxEventBytes - bytes - PROPERTY_OVERHEAD;
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
      v = c(value, Math.min(WIRE.fieldString, room));
      cost = stringCost(v);
    } else if (Array.isArray(value)) {
      const list: (string | number | boolean | null)[] = [];
      cost = 32;
      for (const item of value as readonly (string | number | boolean | null)[]) {
        if (list.length >= WIRE.list || cost >= 2 * room) {
          truncated = true;
          break;
        }
        const x =
          typeof item === 'string' ? c(item, Math.min(WIRE.fieldString, Math.max(0, room - cost / 2))) : item;
        list.push(x);
        cost += 8 + (typeof x === 'string' ? stringCost(x) : 0);
      }
      v = list;
    } else {
      v = value as FieldValue;
      cost = 8;
    }
    fields[rawKey] = v;
    bytes += PROPERTY_OVERHEAD + keyCost + cost;
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
