/**
 * What an event shows its workload doing, coarse enough that a workload's
 * routine repeats itself: the rule with the process and its parent
 * (syscall), or with the user, verb and resource (k8s_audit). A signal lists
 * the behaviours of its events, and a new one is news — a new stage of an
 * attack — where another event of a known behaviour is not. Rules alone were
 * not enough: an attacker's step that fires the same rule as a workload's
 * benign signal (the same "Network Connection outside Local Subnet", from
 * another process) told the analysis nothing new and was never looked at.
 *
 * Every part is attacker-controlled: each is cut to a bounded length and the
 * key is a JSON array, so no value can pass for two parts.
 */
import type { FieldValue, NormalizedEvent } from '../events/types.ts';

/** Characters kept of each part. */
const PART_MAX = 128;

const SYSCALL_PARTS = ['proc.name', 'proc.pname'] as const;
const AUDIT_PARTS = ['ka.user.name', 'ka.verb', 'ka.target.resource', 'ka.target.subresource'] as const;

function part(v: FieldValue | undefined): string {
  if (typeof v === 'string') return v.length > PART_MAX ? v.slice(0, PART_MAX) : v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export function behaviourOf(ev: NormalizedEvent): string {
  const names = ev.source === 'k8s_audit' ? AUDIT_PARTS : SYSCALL_PARTS;
  const parts = [part(ev.rule)];
  for (const name of names) parts.push(part(ev.fields[name]));
  return JSON.stringify(parts);
}
