/**
 * Coarse classes of network peers. The class (not the address) is what is
 * stable enough to have a baseline: a web pod talks to private addresses all
 * day, so its first connection to a public address or to the cloud metadata
 * endpoint is what should stand out.
 */

export const ADDRESS_CLASSES = [
  'loopback',
  'private',
  'link-local',
  'metadata',
  'public',
  'unknown',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

/** Index of each class, used as a small integer key in the featurizer. */
export const ADDRESS_CLASS_INDEX: Readonly<Record<AddressClass, number>> = {
  loopback: 0,
  private: 1,
  'link-local': 2,
  metadata: 3,
  public: 4,
  unknown: 5,
};

/** Parses a dotted IPv4 address into a 32-bit number, or -1 when it is not one. */
function parseIPv4(s: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

function classifyIPv4(v: number): AddressClass {
  // v < 2^32: its top 16 bits, then the first two octets in integer arithmetic (a floating-point
  // % is a library call, and this runs for most network events).
  const top = Math.floor(v / 65536);
  const a = top >>> 8;
  const b = top & 255;
  if (a === 127) return 'loopback';
  if (v === 0xa9fea9fe) return 'metadata'; // 169.254.169.254: AWS, GCP, Azure, OpenStack
  if (a === 169 && b === 254) return 'link-local';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // CGNAT range, common for pod networks
  if (a === 0 || a >= 224) return 'unknown'; // unspecified, multicast, reserved
  return 'public';
}

function classifyIPv6(s: string): AddressClass {
  const lower = s.toLowerCase();
  if (lower === '::1') return 'loopback';
  if (lower.startsWith('::ffff:')) {
    const v4 = parseIPv4(lower, 7, lower.length);
    return v4 >= 0 ? classifyIPv4(v4) : 'unknown';
  }
  if (lower === 'fd00:ec2::254') return 'metadata'; // AWS IMDS over IPv6
  if (/^fe[89ab][0-9a-f]:/.test(lower)) return 'link-local';
  if (/^f[cd][0-9a-f]{2}:/.test(lower)) return 'private';
  if (/^[0-9a-f:]+$/.test(lower) && lower.includes(':')) return 'public';
  return 'unknown';
}

/** Class of an address written as Falco writes fd.sip / fd.rip (IPv4 or IPv6, optional brackets). */
export function classifyAddress(addr: string): AddressClass {
  return classifyRange(addr, 0, addr.length);
}

/** classifyAddress of addr[start, end), without slicing for the common IPv4 case. */
function classifyRange(addr: string, start: number, end: number): AddressClass {
  let s = start;
  let e = end;
  if (e > s && addr.charCodeAt(s) === 91 /* [ */) {
    s++;
    const close = addr.indexOf(']', s);
    if (close >= 0 && close < e) e = close;
  }
  const v4 = parseIPv4(addr, s, e);
  if (v4 >= 0) return classifyIPv4(v4);
  const colon = addr.indexOf(':', s);
  if (colon >= 0 && colon < e) return classifyIPv6(addr.slice(s, e));
  return 'unknown';
}

export interface Peer {
  /** Class of the remote end: the server for an outbound connection, the client for an inbound one. */
  cls: AddressClass;
  /** The server's port (the service), or -1 when unknown; client ports are ephemeral noise. */
  port: number;
  /** The local end is the server (accept): someone connected to this workload. */
  inbound: boolean;
}

function toPort(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : -1;
  if (typeof v === 'string' && v.length > 0 && v.length <= 5) {
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : -1;
  }
  return -1;
}

function portOfRange(s: string, start: number, end: number): number {
  if (end <= start || end - start > 5) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n <= 65535 ? n : -1;
}

/** name.indexOf('->'), as a loop the compiler inlines (this runs for most events). */
function indexOfArrow(name: string): number {
  const last = name.length - 1;
  for (let i = 0; i < last; i++) {
    if (name.charCodeAt(i) === 45 /* - */ && name.charCodeAt(i + 1) === 62 /* > */) return i;
  }
  return -1;
}

/** name.lastIndexOf(':', end - 1): the last ':' before index `end`, or -1 (String.prototype.lastIndexOf is a slow builtin). */
function lastColonBefore(name: string, end: number): number {
  for (let i = end - 1; i >= 0; i--) if (name.charCodeAt(i) === 58 /* : */) return i;
  return -1;
}

/**
 * The connection of a network event from Falco fields, written into `out`
 * (no allocation: this runs for most events). Falco writes fd.name as
 * "client:port->server:port" in both directions and fd.sip/fd.sport for the
 * server, so the local end is the server (inbound) when fd.lport equals the
 * server port. Returns false when the event has no connection.
 */
export function extractPeer(fields: Readonly<Record<string, unknown>>, out: Peer): boolean {
  const name = fields['fd.name'];
  const arrow = typeof name === 'string' ? indexOfArrow(name) : -1;
  let serverPort = -1;
  let clientEnd = -1;
  let serverStart = -1;
  let serverEnd = -1;
  if (arrow > 0) {
    const n = name as string;
    clientEnd = lastColonBefore(n, arrow);
    if (clientEnd <= 0) clientEnd = arrow;
    serverStart = arrow + 2;
    const colon = lastColonBefore(n, n.length);
    const p = colon > serverStart ? portOfRange(n, colon + 1, n.length) : -1;
    serverEnd = p >= 0 ? colon : n.length;
    serverPort = p;
  }
  const sip = fields['fd.sip'];
  const hasSip = typeof sip === 'string' && sip.length > 0;
  if (hasSip) {
    const sport = toPort(fields['fd.sport']);
    if (sport >= 0) serverPort = sport;
  } else if (arrow <= 0) {
    // Only the remote end is known (fd.rip / fd.rport): treat it as the server of an outbound connection.
    const rip = fields['fd.rip'];
    if (typeof rip !== 'string' || rip.length === 0) return false;
    out.cls = classifyAddress(rip);
    out.port = toPort(fields['fd.rport']);
    out.inbound = false;
    return true;
  }
  const lport = toPort(fields['fd.lport']);
  const inbound = lport >= 0 && lport === serverPort && arrow > 0;
  out.port = serverPort;
  out.inbound = inbound;
  if (inbound) out.cls = classifyRange(name as string, 0, clientEnd);
  else if (hasSip) out.cls = classifyAddress(sip);
  else out.cls = classifyRange(name as string, serverStart, serverEnd);
  return true;
}
