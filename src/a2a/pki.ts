/**
 * A development PKI for `falconer up` and tests: a CA and one X.509-SVID per
 * agent (ECDSA P-256), written as PEM files under one directory. In
 * Kubernetes cert-manager issues the same shape of certificates instead.
 *
 * Idempotent: valid existing files are kept; a leaf that expires within 7
 * days, carries the wrong SAN, does not chain to the CA or does not match its
 * key is reissued; a broken or expiring CA is replaced (and every leaf with it).
 */
import { createPrivateKey, randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
// @peculiar/x509 (tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import type { PeerName } from '../agents/contracts.ts';
import { agentSpiffeId } from './identity.ts';
import { FalconerError } from './errors.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 86_400_000;
export const RENEW_BEFORE_MS = 7 * DAY_MS;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  /** Signing CA; omitted: the certificate is a self-signed CA. */
  readonly ca?: PemPair;
  readonly commonName: string;
  /** URI SAN (e.g. a SPIFFE id); may be omitted to test certificates without one. */
  readonly uris?: readonly string[];
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly validityDays?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(keyPem);
  return await webcrypto.subtle.importKey('pkcs8', der, EC, true, ['sign']);
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Issues a CA (no `ca`) or a leaf signed by `ca`, with the SANs given. For the dev PKI and for tests (foreign CAs, odd identities). */
export async function issueCertificate(opts: IssueOptions): Promise<PemPair> {
  const keys = await generateKeys();
  const isCa = opts.ca === undefined;
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter =
    opts.notAfter ?? new Date(notBefore.getTime() + (opts.validityDays ?? (isCa ? 3650 : 90)) * DAY_MS);
  const serialNumber = '01' + randomBytes(15).toString('hex');
  const names: x509.JsonGeneralName[] = [
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, isCa ? 0 : undefined, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (isCa) {
    extensions.push(
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    );
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber,
      name: `CN=${opts.commonName}`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: SIGN,
      extensions,
    });
    return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
  }
  const caCert = new x509.X509Certificate(opts.ca!.certPem);
  const caKey = await importKey(opts.ca!.keyPem);
  extensions.push(
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  );
  // X.509-SVID: the SAN is critical when the subject is empty; we keep a CN, so non-critical.
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: `CN=${opts.commonName}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGN,
    extensions,
  });
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

export interface DevPkiOptions {
  readonly dir: string;
  readonly trustDomain: string;
  readonly namespace: string;
  /** The agents, and `mcp` when the MCP tool server runs. */
  readonly agents: readonly PeerName[];
  /** Leaf validity (days); default 90. */
  readonly leafValidityDays?: number;
  readonly now?: () => Date;
}

export interface TlsFilePaths {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface DevPki {
  readonly dir: string;
  readonly caCertFile: string;
  readonly caKeyFile: string;
  readonly agents: Readonly<Partial<Record<PeerName, TlsFilePaths>>>;
  /** What this call (re)wrote: 'ca' and/or agent names. */
  readonly issued: readonly string[];
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FalconerError('PKI_ERROR', `cannot read ${path}: ${(err as Error).message}`, { path });
  }
}

/** Atomic write (temp file + rename) so a reader never sees half a key. */
async function writeAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}

function keyMatches(cert: NodeX509, keyPemText: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPemText));
  } catch {
    return false;
  }
}

function caStillGood(pair: { cert?: string; key?: string }, nowMs: number): boolean {
  if (!pair.cert || !pair.key) return false;
  try {
    const ca = new NodeX509(pair.cert);
    if (!ca.ca) return false;
    if (Date.parse(ca.validTo) - nowMs < RENEW_BEFORE_MS || Date.parse(ca.validFrom) > nowMs) return false;
    return keyMatches(ca, pair.key);
  } catch {
    return false;
  }
}

/** Does this leaf still serve: chains to `caPem`, right SANs, not near expiry, matches its key? */
export function leafStillGood(
  certPem: string | undefined,
  keyPemText: string | undefined,
  caPem: string,
  spiffeId: string,
  nowMs: number,
): boolean {
  if (!certPem || !keyPemText) return false;
  try {
    const leaf = new NodeX509(certPem);
    const ca = new NodeX509(caPem);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return false;
    if (Date.parse(leaf.validTo) - nowMs < RENEW_BEFORE_MS || Date.parse(leaf.validFrom) > nowMs)
      return false;
    const san = leaf.subjectAltName ?? '';
    const expected = new Set([`URI:${spiffeId}`, 'DNS:localhost', 'IP Address:127.0.0.1']);
    const actual = new Set(san.split(', '));
    if (actual.size !== expected.size || [...expected].some((e) => !actual.has(e))) return false;
    return keyMatches(leaf, keyPemText);
  } catch {
    return false;
  }
}

/** Creates or refreshes the dev PKI under `dir` (mode 0700; keys 0600). */
export async function ensureDevPki(opts: DevPkiOptions): Promise<DevPki> {
  const now = (opts.now ?? (() => new Date()))();
  const nowMs = now.getTime();
  const { dir } = opts;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
  } catch (err) {
    throw new FalconerError('PKI_ERROR', `cannot create PKI directory ${dir}: ${(err as Error).message}`, {
      dir,
    });
  }
  const caCertFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  const issued: string[] = [];
  let ca: PemPair;
  const existingCa = { cert: await readIfPresent(caCertFile), key: await readIfPresent(caKeyFile) };
  if (caStillGood(existingCa, nowMs)) {
    ca = { certPem: existingCa.cert!, keyPem: existingCa.key! };
  } else {
    ca = await issueCertificate({
      commonName: `Falconer dev CA (${opts.trustDomain})`,
      notBefore: new Date(nowMs - 60_000),
    });
    await writeAtomic(caKeyFile, ca.keyPem, 0o600);
    await writeAtomic(caCertFile, ca.certPem, 0o644);
    issued.push('ca');
  }
  const agents: Partial<Record<PeerName, TlsFilePaths>> = {};
  for (const agent of opts.agents) {
    const certFile = join(dir, `${agent}.crt`);
    const keyFile = join(dir, `${agent}.key`);
    const spiffeId = agentSpiffeId(opts.trustDomain, opts.namespace, agent);
    const good = leafStillGood(
      await readIfPresent(certFile),
      await readIfPresent(keyFile),
      ca.certPem,
      spiffeId,
      nowMs,
    );
    if (!good) {
      const leaf = await issueCertificate({
        ca,
        commonName: `falconer-${agent}`,
        uris: [spiffeId],
        dns: ['localhost'],
        ips: ['127.0.0.1'],
        notBefore: new Date(nowMs - 60_000),
        validityDays: opts.leafValidityDays ?? 90,
      });
      await writeAtomic(keyFile, leaf.keyPem, 0o600);
      await writeAtomic(certFile, leaf.certPem, 0o644);
      issued.push(agent);
    } else {
      await chmod(keyFile, 0o600);
    }
    agents[agent] = { certFile, keyFile, caFile: caCertFile };
  }
  return { dir, caCertFile, caKeyFile, agents, issued };
}
