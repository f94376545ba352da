/**
 * The NormalizedEvent implementation. Its `id` is computed on first read and then
 * kept: hashing costs about half a JSON.parse of the event, and most events
 * (scored, found normal, counted) never need theirs; only forwarded events and
 * stored ones do. `toJSON()` includes the id, so serialized events carry it.
 * Being a getter, `id` is not copied by object spread or structuredClone: copy
 * an event with `eventToJSON(e)`.
 */
import { eventId } from './event-id.ts';
import type { FieldValue, NormalizedEvent, Priority, Workload } from './types.ts';

/** A NormalizedEvent as plain data (the interface describes data only; this names the copy). */
export type NormalizedEventData = NormalizedEvent;

export class FalcoEvent implements NormalizedEvent {
  #id: string | undefined;
  readonly timeMs: number;
  readonly time: string;
  readonly rule: string;
  readonly priority: Priority;
  readonly priorityLevel: number;
  readonly source: string;
  readonly hostname: string;
  readonly tags: readonly string[];
  readonly output: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly workload: Workload;

  constructor(
    timeMs: number,
    time: string,
    rule: string,
    priority: Priority,
    priorityLevel: number,
    source: string,
    hostname: string,
    tags: readonly string[],
    output: string,
    fields: Readonly<Record<string, FieldValue>>,
    workload: Workload,
  ) {
    this.timeMs = timeMs;
    this.time = time;
    this.rule = rule;
    this.priority = priority;
    this.priorityLevel = priorityLevel;
    this.source = source;
    this.hostname = hostname;
    this.tags = tags;
    this.output = output;
    this.fields = fields;
    this.workload = workload;
  }

  get id(): string {
    return (this.#id ??= eventId(this));
  }

  toJSON(): NormalizedEventData {
    return eventToJSON(this);
  }
}

/** A plain-data copy of any NormalizedEvent, id included. */
export function eventToJSON(e: NormalizedEvent): NormalizedEventData {
  return {
    id: e.id,
    timeMs: e.timeMs,
    time: e.time,
    rule: e.rule,
    priority: e.priority,
    priorityLevel: e.priorityLevel,
    source: e.source,
    hostname: e.hostname,
    tags: e.tags,
    output: e.output,
    fields: e.fields,
    workload: e.workload,
  };
}
