/** Falco priorities, most to least severe, as Falco spells them. */
export const PRIORITIES = [
  'Emergency',
  'Alert',
  'Critical',
  'Error',
  'Warning',
  'Notice',
  'Informational',
  'Debug',
] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A value of Falco's output_fields: Falco emits strings, numbers, booleans, null, and lists for some fields. */
export type FieldValue = string | number | boolean | null | readonly (string | number | boolean | null)[];

/**
 * Where an event happened. `key` is the grouping key used by the gate and the
 * coordinator: the most specific identity available (pod, else container, else host).
 */
export interface Workload {
  readonly key: string;
  readonly kind: 'pod' | 'container' | 'host';
  readonly host: string;
  readonly cluster?: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  readonly containerId?: string;
  readonly image?: string;
}

/** A Falco alert after validation and normalization. All string content is attacker-controlled. */
export interface NormalizedEvent {
  /** Stable id derived from content and time (Falco gives none): same alert, same id. */
  readonly id: string;
  /** Event time, epoch milliseconds (sub-millisecond precision dropped). */
  readonly timeMs: number;
  /** Event time as Falco wrote it (RFC 3339, nanoseconds). */
  readonly time: string;
  readonly rule: string;
  readonly priority: Priority;
  /** 0 = Emergency … 7 = Debug, Falco's own order. */
  readonly priorityLevel: number;
  readonly source: string;
  readonly hostname: string;
  readonly tags: readonly string[];
  readonly output: string;
  readonly fields: Readonly<Record<string, FieldValue>>;
  readonly workload: Workload;
}
