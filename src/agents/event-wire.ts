/**
 * Normalized events and signals as they travel between agents. Events are
 * attacker-written, so every string is cut to the wire contract's bounds here
 * (with a visible marker) rather than letting one oversized field make the
 * whole A2A message invalid.
 */
import type { FieldValue, NormalizedEvent } from '../events/types.ts';
import type { Signal } from '../gate/signals.ts';
import type { EventWire, SignalWire, WorkloadWire } from './contracts.ts';

const TRUNCATED = '…[truncated]';

export function clip(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max - TRUNCATED.length) + TRUNCATED;
}

function clipField(value: FieldValue): EventWire['fields'][string] {
  if (typeof value === 'string') return clip(value, 8192);
  if (Array.isArray(value)) {
    return value
      .slice(0, 256)
      .map((v: string | number | boolean | null) => (typeof v === 'string' ? clip(v, 8192) : v));
  }
  return value as number | boolean | null;
}

export function toWorkloadWire(w: NormalizedEvent['workload']): WorkloadWire {
  const opt = (v: string | undefined, max: number) => (v === undefined ? undefined : clip(v, max));
  return {
    key: clip(w.key, 600),
    kind: w.kind,
    host: clip(w.host, 255),
    ...(w.cluster !== undefined && { cluster: opt(w.cluster, 128) }),
    ...(w.namespace !== undefined && { namespace: opt(w.namespace, 253) }),
    ...(w.pod !== undefined && { pod: opt(w.pod, 253) }),
    ...(w.container !== undefined && { container: opt(w.container, 253) }),
    ...(w.containerId !== undefined && { containerId: opt(w.containerId, 128) }),
    ...(w.image !== undefined && { image: opt(w.image, 512) }),
  };
}

export function toEventWire(ev: NormalizedEvent): EventWire {
  const fields: EventWire['fields'] = {};
  let n = 0;
  for (const [name, value] of Object.entries(ev.fields)) {
    if (n++ >= 512) break;
    fields[clip(name, 256)] = clipField(value);
  }
  return {
    id: ev.id,
    timeMs: Math.trunc(ev.timeMs),
    time: clip(ev.time, 64),
    rule: clip(ev.rule, 512),
    priority: ev.priority,
    priorityLevel: ev.priorityLevel,
    source: clip(ev.source, 64),
    hostname: clip(ev.hostname, 255),
    tags: ev.tags.slice(0, 64).map((t) => clip(t, 128)),
    output: clip(ev.output, 16384),
    fields,
    workload: toWorkloadWire(ev.workload),
  };
}

export function toSignalWire(signal: Signal): SignalWire {
  return {
    id: signal.id,
    workload: toWorkloadWire(signal.workload),
    firstSeenMs: Math.trunc(signal.firstSeenMs),
    lastSeenMs: Math.trunc(signal.lastSeenMs),
    eventIds: signal.eventIds.slice(0, 1000),
    maxScore: Math.min(1, Math.max(0, signal.maxScore)),
    rules: signal.rules.slice(0, 64).map((r) => clip(r, 512)),
    priorityLevel: signal.priorityLevel,
    count: signal.count,
    ...(signal.behaviours !== undefined && {
      behaviours: signal.behaviours.slice(0, 64).map((b) => clip(b, 1024)),
    }),
  };
}
