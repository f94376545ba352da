/**
 * Matching stored events against the MCP tools' criteria: workload parts,
 * namespace scope, rule, allow-listed field filters. Pure; every value
 * compared is attacker-written text, so matching is literal (no regex, no glob).
 */
import type { EventWire, FieldFilter } from '../../agents/contracts.ts';

/** A field's value as text: numbers in decimal, lists joined with commas, null/absent as undefined. */
export function fieldText(e: EventWire, field: string): string | undefined {
  const v = e.fields[field];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => (x === null ? '' : String(x))).join(',');
  return String(v);
}

export function matchesFilter(e: EventWire, f: FieldFilter): boolean {
  const actual = fieldText(e, f.field);
  if (actual === undefined) return false;
  switch (f.op) {
    case 'eq':
      return actual === f.value;
    case 'prefix':
      return actual.startsWith(f.value);
    case 'contains':
      return actual.includes(f.value);
  }
}

/** The event's namespace: the normalized workload's, else Falco's k8s.ns.name. */
export function namespaceOf(e: EventWire): string | undefined {
  return e.workload.namespace ?? fieldText(e, 'k8s.ns.name');
}

/** Undefined scope = every namespace; an event without a namespace is only in the unrestricted scope. */
export function inNamespaces(e: EventWire, namespaces: ReadonlySet<string> | undefined): boolean {
  if (namespaces === undefined) return true;
  const ns = namespaceOf(e);
  return ns !== undefined && namespaces.has(ns);
}

export function scopeSet(namespaces: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return namespaces === undefined ? undefined : new Set(namespaces);
}
