/**
 * Free loopback ports for a whole platform (five agents × A2A + ops, the
 * ingest, the HITL API, the MCP server and its ops), as the FALCONER_* variables that move them, so that
 * platform tests run beside each other and beside a developer's `falconer up`.
 */
import { AGENT_NAMES } from '../../src/agents/contracts.ts';
import { freePort } from './free-port.ts';

export interface PlatformPorts {
  readonly env: Record<string, string>;
  readonly ingest: number;
  readonly api: number;
  readonly a2a: Record<string, number>;
  readonly ops: Record<string, number>;
}

export async function platformPorts(): Promise<PlatformPorts> {
  const env: Record<string, string> = {};
  const a2a: Record<string, number> = {};
  const ops: Record<string, number> = {};
  for (const name of AGENT_NAMES) {
    const upper = name.toUpperCase();
    a2a[name] = await freePort();
    ops[name] = await freePort();
    env[`FALCONER_AGENTS_${upper}_A2A_PORT`] = String(a2a[name]);
    env[`FALCONER_AGENTS_${upper}_OPS_PORT`] = String(ops[name]);
    env[`FALCONER_AGENTS_${upper}_URL`] = `https://localhost:${a2a[name]}`;
  }
  const ingest = await freePort();
  const api = await freePort();
  env.FALCONER_INGEST_PORT = String(ingest);
  env.FALCONER_COORDINATOR_API_PORT = String(api);
  env.FALCONER_MCP_PORT = String(await freePort());
  env.FALCONER_MCP_OPS_PORT = String(await freePort());
  return { env, ingest, api, a2a, ops };
}
