/**
 * `events.search` over the event store: newest first, at most `limit`, with
 * `truncated` when more matched. One pass over the stored events (or over
 * one workload's, when a workload key is given) keeping the newest `limit`
 * matches in a ring: O(events) time, O(limit) memory.
 */
import type { EventWire, EventsSearchInput, EventsSearchOutput } from '../../agents/contracts.ts';
import type { EventStore } from '../../store/event-store.ts';
import { inNamespaces, matchesFilter, scopeSet } from './event-match.ts';

export function searchEvents(store: EventStore, input: EventsSearchInput): EventsSearchOutput {
  const limit = Math.max(1, Math.min(500, input.limit));
  const namespaces = scopeSet(input.namespaces);
  const filters = input.fields ?? [];
  const source = store.iterate({
    ...(input.fromMs !== undefined ? { fromMs: input.fromMs } : {}),
    ...(input.toMs !== undefined ? { toMs: input.toMs } : {}),
    ...(input.workloadKey !== undefined ? { workloadKey: input.workloadKey } : {}),
  });
  const ring: EventWire[] = new Array<EventWire>(limit);
  let matched = 0;
  let scanned = 0;
  for (const e of source) {
    scanned++;
    if (input.rule !== undefined && e.rule !== input.rule) continue;
    if (input.namespace !== undefined && e.workload.namespace !== input.namespace) continue;
    if (input.pod !== undefined && e.workload.pod !== input.pod) continue;
    if (input.container !== undefined && e.workload.container !== input.container) continue;
    if (!inNamespaces(e, namespaces)) continue;
    if (!filters.every((f) => matchesFilter(e, f))) continue;
    ring[matched % limit] = e;
    matched++;
  }
  const kept = Math.min(matched, limit);
  const events: EventWire[] = [];
  // Arrival order is time order: walk the ring backwards from the newest match.
  for (let i = 0; i < kept; i++) events.push(ring[(matched - 1 - i) % limit] as EventWire);
  return { events, truncated: matched > limit, scanned };
}
