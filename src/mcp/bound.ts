/**
 * Bounds on everything a tool returns: it goes into an LLM prompt. Strings
 * are clipped (marked with an ellipsis), lists and maps capped, and an
 * event list is cut to a total size budget.
 */
import type { EventWire } from '../agents/contracts.ts';
import { z } from 'zod';

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

const MAX_FIELDS = 48;
const MAX_FIELD_TEXT = 512;
const MAX_OUTPUT = 1000;
const MAX_TAGS = 16;
/** About 64k tokens of events at most per answer. */
export const EVENTS_TEXT_BUDGET = 256 * 1024;

const FieldValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])),
]);

export const BoundedEvent = z.object({
  id: z.string(),
  time: z.string(),
  timeMs: z.number().int(),
  rule: z.string(),
  priority: z.string(),
  source: z.string(),
  hostname: z.string(),
  tags: z.array(z.string()).max(MAX_TAGS),
  output: z.string(),
  workload: z.object({
    key: z.string(),
    kind: z.string(),
    namespace: z.string().optional(),
    pod: z.string().optional(),
    container: z.string().optional(),
    image: z.string().optional(),
  }),
  fields: z.record(z.string(), FieldValue),
  /** Fields left out (over the per-event cap). */
  omittedFields: z.number().int().min(0),
});
export type BoundedEvent = z.infer<typeof BoundedEvent>;

function boundValue(v: EventWire['fields'][string]): z.infer<typeof FieldValue> {
  if (typeof v === 'string') return clip(v, MAX_FIELD_TEXT);
  if (Array.isArray(v)) return v.slice(0, 16).map((x) => (typeof x === 'string' ? clip(x, 128) : x));
  return v;
}

export function boundEvent(e: EventWire): BoundedEvent {
  const keys = Object.keys(e.fields);
  const fields: Record<string, z.infer<typeof FieldValue>> = {};
  for (const k of keys.slice(0, MAX_FIELDS)) fields[clip(k, 128)] = boundValue(e.fields[k] ?? null);
  const w = e.workload;
  return {
    id: e.id,
    time: e.time,
    timeMs: e.timeMs,
    rule: clip(e.rule, 200),
    priority: e.priority,
    source: e.source,
    hostname: clip(e.hostname, 255),
    tags: e.tags.slice(0, MAX_TAGS).map((t) => clip(t, 64)),
    output: clip(e.output, MAX_OUTPUT),
    workload: {
      key: clip(w.key, 600),
      kind: w.kind,
      ...(w.namespace !== undefined ? { namespace: w.namespace } : {}),
      ...(w.pod !== undefined ? { pod: w.pod } : {}),
      ...(w.container !== undefined ? { container: w.container } : {}),
      ...(w.image !== undefined ? { image: clip(w.image, 512) } : {}),
    },
    fields,
    omittedFields: Math.max(0, keys.length - MAX_FIELDS),
  };
}

/** Bounded events in order until the text budget is spent; `cut` when some were dropped. */
export function boundEvents(
  events: readonly EventWire[],
  budget = EVENTS_TEXT_BUDGET,
): { events: BoundedEvent[]; cut: boolean } {
  const out: BoundedEvent[] = [];
  let used = 0;
  for (const e of events) {
    const b = boundEvent(e);
    used += JSON.stringify(b).length;
    if (used > budget && out.length > 0) return { events: out, cut: true };
    out.push(b);
  }
  return { events: out, cut: false };
}
