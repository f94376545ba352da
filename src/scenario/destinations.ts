/**
 * Network peers outside the pods: cloud APIs and SaaS the workloads really call
 * (real provider address ranges and the names Falco sees resolved), the
 * instance metadata service, and attacker infrastructure. Attackers only ever
 * get addresses from the RFC 5737 documentation ranges, so no real host is
 * cast as malicious; to a featurizer they are ordinary public addresses.
 */
import type { Peer } from './events.ts';
import type { ScenarioRandom } from './random.ts';

export const IMDS: Peer = Object.freeze({ ip: '169.254.169.254', port: 80 });

export function s3(rng: ScenarioRandom, region: string): Peer {
  return {
    ip: `52.218.${rng.between(0, 127)}.${rng.between(1, 254)}`,
    port: 443,
    name: `s3-r-w.${region}.amazonaws.com`,
  };
}

export function sts(rng: ScenarioRandom, region: string): Peer {
  return {
    ip: `52.94.${rng.between(0, 255)}.${rng.between(1, 254)}`,
    port: 443,
    name: `sts.${region}.amazonaws.com`,
  };
}

export function ec2Api(rng: ScenarioRandom, region: string): Peer {
  return {
    ip: `3.5.${rng.between(64, 127)}.${rng.between(1, 254)}`,
    port: 443,
    name: `ec2.${region}.amazonaws.com`,
  };
}

export function stripe(rng: ScenarioRandom): Peer {
  return {
    ip: rng.pick(['54.187.174.169', '54.187.205.235', '54.187.216.72']),
    port: 443,
    name: 'api.stripe.com',
  };
}

export function pypi(rng: ScenarioRandom): Peer {
  return rng.pick([
    { ip: '151.101.0.223', port: 443, name: 'pypi.org' },
    { ip: '151.101.64.223', port: 443, name: 'files.pythonhosted.org' },
  ]);
}

export function npmRegistry(rng: ScenarioRandom): Peer {
  return { ip: `104.16.${rng.between(16, 31)}.34`, port: 443, name: 'registry.npmjs.org' };
}

export function github(rng: ScenarioRandom): Peer {
  return rng.pick([
    { ip: '140.82.121.4', port: 443, name: 'github.com' },
    { ip: '140.82.121.6', port: 443, name: 'api.github.com' },
  ]);
}

export function sentry(rng: ScenarioRandom): Peer {
  return { ip: `34.120.195.${rng.between(240, 249)}`, port: 443, name: 'o450000.ingest.sentry.io' };
}

export const DL_K8S: Peer = Object.freeze({ ip: '34.107.204.206', port: 443, name: 'dl.k8s.io' });

/** An attacker-controlled public address (RFC 5737 TEST-NET-1/2/3). */
export function attackerIp(rng: ScenarioRandom): string {
  const net = rng.pick(['192.0.2', '198.51.100', '203.0.113']);
  return `${net}.${rng.between(2, 254)}`;
}

/** Mining pools as named in the rules' miner_domains list; the address is a documentation one. */
export const MINING_POOLS: readonly string[] = [
  'pool.supportxmr.com',
  'xmr-eu1.nanopool.org',
  'pool.minexmr.com',
  'xmr.crypto-pool.fr',
  'rx.unmineable.com',
];
export const MINING_PORTS: readonly number[] = [3333, 4444, 5555, 7777, 14444, 14433];
