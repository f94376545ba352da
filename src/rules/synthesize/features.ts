/**
 * What the synthesizer may build a condition from: the output fields of the
 * incident's events that describe behaviour or place (process, file, network
 * peer, namespace, image, audit user/target), never per-instance noise (ids,
 * times, ephemeral ports, pod names). Events are grouped by source and event
 * type (syscall) or by field signature (k8s_audit): one conjunction per group.
 */
import type { FieldValue, NormalizedEvent } from '../../events/types.ts';

/** Fields that identify one instance, not a behaviour: never used in a condition. */
const NOISE = [
  /^evt\.(time|rawtime|num|datetime|hostname)/,
  /(^|\.)(id|pid|ppid|vpid|tid|ino|start_ts)$/,
  /^proc\.exe_ino/,
  /ctime/,
  /^k8s\.pod\.(name|uid|ip)$/,
  /^container\.(id|start_ts|image\.tag|image\.digest)$/,
  /^fd\.(lport|cport|num)$/,
  /^evt\.arg\.(mode|res|fd)$/,
  /^user\.loginuid$/,
  /^ka\.(auth\.reason|uri|req\.pod\.containers\.args)$/,
];
/** Longest value a term may carry (longer values are payloads, not identities). */
const MAX_VALUE = 256;
/** A field with more distinct values than this in one group is not a useful exact term. */
export const MAX_VALUES = 8;
/** `fd.name` of a socket (`cip:cport->sip:sport`) changes with every connection. */
const SOCKET_NAME = /->/;

export function usableField(name: string): boolean {
  return !NOISE.some((re) => re.test(name));
}

/** The values a term compares with, as text (numbers and booleans as Falco prints them), or undefined if unusable. */
export function termValue(name: string, v: FieldValue | undefined): string | undefined {
  if (v === undefined || v === null || typeof v === 'object') return undefined;
  const s = String(v);
  if (s.length === 0 || s.length > MAX_VALUE || s === '<NA>') return undefined;
  if (name === 'fd.name' && SOCKET_NAME.test(s)) return undefined;
  return s;
}

export interface EventGroup {
  source: string;
  key: string;
  events: NormalizedEvent[];
}

function groupKey(ev: NormalizedEvent): string {
  if (ev.source === 'syscall') return `syscall|${String(ev.fields['evt.type'] ?? '?')}`;
  const keys = Object.keys(ev.fields)
    .filter((k) => termValue(k, ev.fields[k]) !== undefined && usableField(k))
    .sort();
  return `${ev.source}|${keys.join(',')}`;
}

export function groupEvents(events: readonly NormalizedEvent[]): EventGroup[] {
  const groups = new Map<string, EventGroup>();
  for (const ev of events) {
    const key = groupKey(ev);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { source: ev.source, key, events: [] }));
    g.events.push(ev);
  }
  return [...groups.values()];
}

/** Per usable field present (with a usable value) in EVERY event of the group: its distinct values. */
export function commonFields(events: readonly NormalizedEvent[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const first = events[0];
  if (first === undefined) return out;
  for (const name of Object.keys(first.fields).sort()) {
    if (!usableField(name)) continue;
    const values = new Set<string>();
    let ok = true;
    for (const ev of events) {
      const v = termValue(name, ev.fields[name]);
      if (v === undefined) {
        ok = false;
        break;
      }
      values.add(v);
      if (values.size > MAX_VALUES) {
        ok = false;
        break;
      }
    }
    if (ok) out.set(name, [...values].sort());
  }
  return out;
}
