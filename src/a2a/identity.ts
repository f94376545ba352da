/**
 * SPIFFE identities of Falconer agents:
 *   spiffe://<trustDomain>/ns/<namespace>/sa/falconer-<agent>
 * and extraction of the identity from a TLS peer certificate. Certificates
 * are attacker-supplied (any CA-signed cert may be presented), so parsing is
 * strict: exactly one spiffe:// URI SAN, a strict grammar, no percent
 * encoding, dot segments, query, fragment or userinfo.
 */
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { PEER_NAMES, type PeerName } from '../agents/contracts.ts';
import { FalconerError } from './errors.ts';

export interface SpiffeId {
  readonly trustDomain: string;
  /** Path segments without the leading slash, e.g. ['ns', 'default', 'sa', 'falconer-detect']. */
  readonly path: readonly string[];
  /** The id exactly as formatted: spiffe://<trustDomain>/<path…>. */
  readonly uri: string;
}

/** A caller as the server sees it: its SPIFFE id and, when it names a Falconer workload (an agent, or mcp) of our trust domain and namespace, which. */
export interface PeerIdentity {
  readonly spiffeId: string;
  readonly agent: PeerName | undefined;
}

// SPIFFE spec: trust domain is lowercase letters, digits, dots, dashes, underscores.
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
// Path segments: letters, digits, dots, dashes, underscores (no '.' or '..' alone).
const SEGMENT = /^[A-Za-z0-9._-]{1,255}$/;
const MAX_ID_LENGTH = 2048;
const AGENT_PREFIX = 'falconer-';

export function parseSpiffeId(value: string): SpiffeId {
  const fail = (why: string): never => {
    throw new FalconerError('A2A_SPIFFE_INVALID', `invalid SPIFFE id: ${why}`, {
      value: value.slice(0, 120),
    });
  };
  if (typeof value !== 'string' || value.length > MAX_ID_LENGTH)
    fail('not a string of at most 2048 characters');
  const scheme = 'spiffe://';
  if (!value.startsWith(scheme)) fail('scheme must be spiffe://');
  const rest = value.slice(scheme.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(trustDomain)) fail('bad trust domain');
  const path = slash === -1 ? [] : rest.slice(slash + 1).split('/');
  for (const seg of path) {
    if (!SEGMENT.test(seg) || seg === '.' || seg === '..') fail('bad path segment');
  }
  return { trustDomain, path, uri: value };
}

export function formatSpiffeId(trustDomain: string, path: readonly string[]): string {
  const uri = `spiffe://${trustDomain}${path.length ? '/' + path.join('/') : ''}`;
  return parseSpiffeId(uri).uri;
}

/** spiffe://<trustDomain>/ns/<namespace>/sa/falconer-<agent> */
export function agentSpiffeId(trustDomain: string, namespace: string, agent: PeerName): string {
  return formatSpiffeId(trustDomain, ['ns', namespace, 'sa', AGENT_PREFIX + agent]);
}

/** The agent a SPIFFE id names, if it is one of ours in this trust domain and namespace; otherwise undefined. */
export function agentFromSpiffeId(id: string, trustDomain: string, namespace: string): PeerName | undefined {
  let parsed: SpiffeId;
  try {
    parsed = parseSpiffeId(id);
  } catch {
    return undefined;
  }
  const [ns, nsValue, sa, account, ...extra] = parsed.path;
  if (parsed.trustDomain !== trustDomain || extra.length > 0) return undefined;
  if (ns !== 'ns' || nsValue !== namespace || sa !== 'sa' || account === undefined) return undefined;
  if (!account.startsWith(AGENT_PREFIX)) return undefined;
  const name = account.slice(AGENT_PREFIX.length);
  return (PEER_NAMES as readonly string[]).includes(name) ? (name as PeerName) : undefined;
}

/**
 * The URI SANs of a certificate's subjectaltname string as Node prints it,
 * e.g. `DNS:localhost, URI:spiffe://x/y, IP Address:127.0.0.1`. Node quotes
 * entries that contain a comma or quote as JSON strings (`URI:"a,b"`), which
 * we decode, so an attacker cannot smuggle a second SAN inside one value.
 */
export function uriSansFromSubjectAltName(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  const out: string[] = [];
  let i = 0;
  const s = subjectaltname;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon === -1) break;
    const type = s.slice(i, colon).trim();
    let j = colon + 1;
    let value: string;
    if (s[j] === '"') {
      // JSON-quoted value: find the closing quote, honouring escapes.
      let k = j + 1;
      while (k < s.length && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(s.slice(j, k + 1)) as string;
      } catch {
        return []; // unparseable: treat as no identity at all
      }
      j = k + 1;
    } else {
      const comma = s.indexOf(', ', j);
      const end = comma === -1 ? s.length : comma;
      value = s.slice(j, end);
      j = end;
    }
    if (type === 'URI') out.push(value);
    if (s.startsWith(', ', j)) j += 2;
    else if (j < s.length) return []; // not the shape Node prints: refuse
    i = j;
  }
  return out;
}

/**
 * The one SPIFFE id of a certificate. Undefined when there is none, or more
 * than one (X.509-SVID allows exactly one URI SAN; two would be ambiguous).
 */
export function spiffeIdFromSubjectAltName(subjectaltname: string | undefined): string | undefined {
  const spiffe = uriSansFromSubjectAltName(subjectaltname).filter((u) =>
    u.toLowerCase().startsWith('spiffe:'),
  );
  if (spiffe.length !== 1) return undefined;
  const [only] = spiffe;
  try {
    return parseSpiffeId(only!).uri;
  } catch {
    return undefined;
  }
}

export function spiffeIdFromPeerCertificate(cert: PeerCertificate | undefined | null): string | undefined {
  if (!cert || typeof cert !== 'object' || !('subjectaltname' in cert)) return undefined;
  return spiffeIdFromSubjectAltName(cert.subjectaltname);
}

/** The authenticated peer of a TLS socket (undefined when the handshake did not authorize it). */
export function peerIdentityFromSocket(
  socket: TLSSocket,
  trustDomain: string,
  namespace: string,
): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const x509 = socket.getPeerX509Certificate();
  const spiffeId = spiffeIdFromSubjectAltName(x509?.subjectAltName);
  if (spiffeId === undefined) return undefined;
  return { spiffeId, agent: agentFromSpiffeId(spiffeId, trustDomain, namespace) };
}
