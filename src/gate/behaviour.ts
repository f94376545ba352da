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
 * A syscall event with a connection adds where it goes: direction, the class
 * of the remote address (private, public, metadata…) and the server's port —
 * a C2 beacon to a public address on 4444 from the app's own interpreter is
 * news next to its usual connections to public:443. Remote addresses and
 * client ports are left out: they change with every connection.
 *
 * Every part is attacker-controlled: each is cut to a bounded length and the
 * key is a JSON array, so no value can pass for two parts.
 */
import type { FieldValue, NormalizedEvent } from '../events/types.ts';
import { extractPeer, type Peer } from './address.ts';

/** Characters kept of each part. */
const PART_MAX = 128;

const SYSCALL_PARTS = ['proc.name', 'proc.pname'] as const;
const AUDIT_PARTS = ['ka.user.name', 'ka.verb', 'ka.target.resource', 'ka.target.subresource'] as const;

function part(v: FieldValue | undefined): string {
  if (typeof v === 'string') return v.length > PART_MAX ? v.slice(0, PART_MAX) : v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

const peer: Peer = { cls: 'unknown', port: -1, inbound: false };

/** "out public:4444", "in private:8080", or '' when the event has no connection. */
function connectionOf(ev: NormalizedEvent): string {
  if (!extractPeer(ev.fields, peer)) return '';
  return `${peer.inbound ? 'in' : 'out'} ${peer.cls}:${peer.port >= 0 ? peer.port : '?'}`;
}

export function behaviourOf(ev: NormalizedEvent): string {
  const audit = ev.source === 'k8s_audit';
  const parts = [part(ev.rule)];
  for (const name of audit ? AUDIT_PARTS : SYSCALL_PARTS) parts.push(part(ev.fields[name]));
  if (!audit) {
    const connection = connectionOf(ev);
    if (connection !== '') parts.push(connection);
  }
  return JSON.stringify(parts);
}
