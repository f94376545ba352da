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
  const a = Math.floor(v / 16777216);
  const b = Math.floor(v / 65536) % 256;
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
  let s = addr;
  if (s.length > 0 && s.charCodeAt(0) === 91 /* [ */)
    s = s.slice(1, s.indexOf(']') > 0 ? s.indexOf(']') : s.length);
  const v4 = parseIPv4(s, 0, s.length);
  if (v4 >= 0) return classifyIPv4(v4);
  if (s.includes(':')) return classifyIPv6(s);
  return 'unknown';
}

export interface Peer {
  cls: AddressClass;
  /** Port number, or -1 when unknown. */
  port: number;
}

function toPort(v: unknown): number {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 65535 ? v : -1;
  if (typeof v === 'string' && v.length > 0 && v.length <= 5) {
    const n = Number(v);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : -1;
  }
  return -1;
}

/**
 * The remote end of a connection from Falco fields: fd.rip/fd.rport (remote
 * peer), else fd.sip/fd.sport (server), else the part of fd.name after "->"
 * ("10.0.0.5:43210->1.2.3.4:4444"). Undefined when the event has no peer.
 */
export function extractPeer(fields: Readonly<Record<string, unknown>>): Peer | undefined {
  const rip = fields['fd.rip'];
  if (typeof rip === 'string' && rip.length > 0) {
    return { cls: classifyAddress(rip), port: toPort(fields['fd.rport']) };
  }
  const sip = fields['fd.sip'];
  if (typeof sip === 'string' && sip.length > 0) {
    return { cls: classifyAddress(sip), port: toPort(fields['fd.sport']) };
  }
  const name = fields['fd.name'];
  if (typeof name === 'string') {
    const arrow = name.indexOf('->');
    if (arrow >= 0) {
      const remote = name.slice(arrow + 2);
      const colon = remote.lastIndexOf(':');
      if (colon > 0)
        return { cls: classifyAddress(remote.slice(0, colon)), port: toPort(remote.slice(colon + 1)) };
      return { cls: classifyAddress(remote), port: -1 };
    }
  }
  return undefined;
}
