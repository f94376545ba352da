/**
 * Size limits for one Falco alert. Every string in an alert is attacker-controlled
 * (a process chooses its own command line), so nothing is accepted unbounded.
 */
export interface EventLimits {
  /** Largest serialized event (one JSON body or one NDJSON line), in bytes. */
  readonly maxEventBytes: number;
  /** Most keys in `output_fields`. */
  readonly maxFields: number;
  /** Longest `output_fields` key, in UTF-16 code units. */
  readonly maxFieldNameLength: number;
  /** Longest string value anywhere in the alert, in UTF-16 code units. */
  readonly maxStringLength: number;
  /** Most elements in one list value of `output_fields`. */
  readonly maxListLength: number;
  /** Most entries in `tags`. */
  readonly maxTags: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = Object.freeze({
  maxEventBytes: 64 * 1024,
  maxFields: 256,
  maxFieldNameLength: 256,
  maxStringLength: 64 * 1024,
  maxListLength: 1024,
  maxTags: 128,
});

export function resolveEventLimits(partial?: Partial<EventLimits>): EventLimits {
  if (!partial) return DEFAULT_EVENT_LIMITS;
  return Object.freeze({ ...DEFAULT_EVENT_LIMITS, ...definedOnly(partial) });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
