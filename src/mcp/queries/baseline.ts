/**
 * `events.baseline`: how common one process, parent, image, port or path
 * prefix is in a workload and over every workload the caller may see. One
 * pass over the store; pure.
 */
import type { EventWire, EventsBaselineInput, EventsBaselineOutput } from '../../agents/contracts.ts';
import type { EventStore } from '../../store/event-store.ts';
import { fieldText, inNamespaces, scopeSet } from './event-match.ts';

type Kind = EventsBaselineInput['kind'];

/** Does this event have the value of this kind? */
export function baselineMatcher(kind: Kind, value: string): (e: EventWire) => boolean {
  switch (kind) {
    case 'process':
      return (e) => fieldText(e, 'proc.name') === value;
    case 'parent':
      return (e) => fieldText(e, 'proc.pname') === value;
    case 'image':
      return (e) => {
        const image = e.workload.image ?? fieldText(e, 'container.image.repository');
        if (image === undefined) return false;
        // "nginx" matches "nginx:1.27" and "nginx@sha256:…"; a full reference matches itself.
        return image === value || image.startsWith(`${value}:`) || image.startsWith(`${value}@`);
      };
    case 'port':
      return (e) => fieldText(e, 'fd.sport') === value || fieldText(e, 'fd.rport') === value;
    case 'path':
      return (e) => fieldText(e, 'fd.name')?.startsWith(value) ?? false;
  }
}

interface Tally {
  count: number;
  first: number | null;
  last: number | null;
}

function see(t: Tally, ms: number): void {
  t.count++;
  if (t.first === null || ms < t.first) t.first = ms;
  if (t.last === null || ms > t.last) t.last = ms;
}

export function eventsBaseline(store: EventStore, input: EventsBaselineInput): EventsBaselineOutput {
  const namespaces = scopeSet(input.namespaces);
  const has = baselineMatcher(input.kind, input.value);
  const inWorkload: Tally = { count: 0, first: null, last: null };
  const overall: Tally = { count: 0, first: null, last: null };
  const withIt = new Set<string>();
  const allWorkloads = new Set<string>();
  let workloadEvents = 0;
  let events = 0;
  const range = {
    ...(input.fromMs !== undefined ? { fromMs: input.fromMs } : {}),
    ...(input.toMs !== undefined ? { toMs: input.toMs } : {}),
  };
  for (const e of store.iterate(range)) {
    if (!inNamespaces(e, namespaces)) continue;
    events++;
    allWorkloads.add(e.workload.key);
    const mine = e.workload.key === input.workloadKey;
    if (mine) workloadEvents++;
    if (!has(e)) continue;
    see(overall, e.timeMs);
    withIt.add(e.workload.key);
    if (mine) see(inWorkload, e.timeMs);
  }
  return {
    workloadKey: input.workloadKey,
    kind: input.kind,
    value: input.value,
    workload: {
      events: workloadEvents,
      count: inWorkload.count,
      firstSeenMs: inWorkload.first,
      lastSeenMs: inWorkload.last,
    },
    overall: {
      events,
      count: overall.count,
      workloads: withIt.size,
      totalWorkloads: allWorkloads.size,
      firstSeenMs: overall.first,
      lastSeenMs: overall.last,
    },
    population: namespaces === undefined ? 'all' : 'scoped-namespaces',
  };
}
