/**
 * Starts the whole platform on this machine: a dev PKI under the data
 * directory, then each agent as its own supervised process on loopback, then
 * waits until every agent answers /readyz. Shared by `falconer up` and
 * `falconer demo`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevPki } from '../a2a/pki.ts';
import { detectHeapCapMiB } from '../store/event-store-config.ts';
import { AGENT_NAMES, PEER_NAMES, type AgentName, type PeerName } from '../agents/contracts.ts';
import type { FalconerConfig } from '../config/schema.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import { Supervisor, type SupervisorEvent } from '../supervisor/supervisor.ts';

const BIN = fileURLToPath(new URL('../../bin/falconer.js', import.meta.url));

export interface PlatformEndpoints {
  readonly ingest: string;
  readonly api: string;
  readonly apiTokenFile: string;
  readonly metrics: Readonly<Record<AgentName, string>>;
  readonly logs: Readonly<Record<AgentName, string>>;
  /** The MCP tool server (`falconer mcp`), for any MCP client. */
  readonly mcp: {
    readonly url: string;
    readonly tokenFile: string;
    readonly metrics: string;
    readonly log: string;
  };
}

export interface Platform {
  readonly dataDir: string;
  readonly endpoints: PlatformEndpoints;
  readonly supervisor: Supervisor;
  /** Agents that exited unexpectedly since the start, with how often. */
  crashes(): ReadonlyMap<PeerName, number>;
  stop(): Promise<void>;
}

export interface LaunchOptions {
  readonly config: FalconerConfig;
  readonly configFile?: string;
  /** Extra environment for the agents (tests move ports with FALCONER_* variables). */
  readonly env?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

/** A secret file created once (mode 0600) and reused: the HITL API token, the link-signing key. */
export function ensureSecretFile(path: string, bytes = 32): string {
  if (!existsSync(path))
    writeFileSync(path, `${randomBytes(bytes).toString('base64url')}\n`, { mode: 0o600 });
  return readFileSync(path, 'utf8').trim();
}

async function waitReady(url: string, deadline: number, crashed: () => boolean): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (crashed() || Date.now() > deadline) {
      throw new FalconerError('PLATFORM_NOT_READY', `agent at ${url} did not become ready`, { url });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function launchPlatform(opts: LaunchOptions): Promise<Platform> {
  const { config } = opts;
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  await ensureDevPki({
    dir: join(dataDir, 'pki'),
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    agents: PEER_NAMES,
  });
  const apiTokenFile = join(dataDir, 'api-token');
  ensureSecretFile(apiTokenFile);
  const mcpTokenFile = join(dataDir, 'mcp-token');
  ensureSecretFile(mcpTokenFile);
  const host = config.agents.host;
  const mcpUrl = `http://${config.mcp.host}:${config.mcp.port}/mcp`;

  const crashes = new Map<PeerName, number>();
  // FALCONER_CPU_PROF_DIR: every agent writes a V8 CPU profile there when it exits (Node refuses --cpu-prof in NODE_OPTIONS).
  const cpuProfDir = process.env.FALCONER_CPU_PROF_DIR;
  const supervisor = new Supervisor({
    logDir: join(dataDir, 'logs'),
    // Writing a long CPU profile on exit takes a while: do not SIGKILL the agent before it is on disk.
    ...(cpuProfDir ? { stopGraceMs: 120_000 } : {}),
    onEvent: (event) => {
      if (event.kind === 'exited' && event.restartInMs !== null) {
        const name = event.name as PeerName;
        crashes.set(name, (crashes.get(name) ?? 0) + 1);
      }
      opts.onEvent?.(event);
    },
  });
  const args = (name: AgentName) => [
    ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []),
    ...(name === 'detect' ? [`--max-old-space-size=${detectHeapCapMiB(config.eventStore)}`] : []),
    BIN,
    'agent',
    name,
    '--data-dir',
    dataDir,
    ...(opts.configFile ? ['--config', resolve(opts.configFile)] : []),
  ];
  // The coordinator first: detect's first signals find it listening.
  const order: AgentName[] = ['coordinator', 'analyse', 'remediate', 'notify', 'detect'];
  // Analyse's LLM analyst (when a provider is configured) uses the local MCP server unless told otherwise.
  const analyseMcp =
    config.analyse.mcp === undefined
      ? ['--set', `analyse.mcp.url=${mcpUrl}`, '--set', `analyse.mcp.tokenFile=${mcpTokenFile}`]
      : [];
  for (const name of order) {
    supervisor.start({
      name,
      command: process.execPath,
      args: [...args(name), ...(name === 'analyse' ? analyseMcp : [])],
      env: {
        ...opts.env,
        FALCONER_COORDINATOR_API_TOKEN_FILE: apiTokenFile,
      },
    });
  }
  // After detect and the coordinator: its tools read from them over A2A (identity mcp).
  supervisor.start({
    name: 'mcp',
    command: process.execPath,
    args: [
      BIN,
      'mcp',
      '--data-dir',
      dataDir,
      ...(opts.configFile ? ['--config', resolve(opts.configFile)] : []),
    ],
    env: { ...opts.env, FALCONER_MCP_TOKEN_FILE: mcpTokenFile },
  });
  const mcpOps = `http://${config.mcp.host}:${config.mcp.opsPort}`;
  const opsUrl = (name: AgentName) => `http://${host}:${config.agents[name].opsPort}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 180_000);
  try {
    await Promise.all([
      ...order.map((name) =>
        waitReady(`${opsUrl(name)}/readyz`, deadline, () => (crashes.get(name) ?? 0) > 3),
      ),
      waitReady(`${mcpOps}/readyz`, deadline, () => (crashes.get('mcp') ?? 0) > 3),
    ]);
  } catch (err) {
    await supervisor.stop();
    throw err;
  }
  const metrics = Object.fromEntries(AGENT_NAMES.map((n) => [n, `${opsUrl(n)}/metrics`])) as Record<
    AgentName,
    string
  >;
  const logs = Object.fromEntries(AGENT_NAMES.map((n) => [n, supervisor.logFile(n)])) as Record<
    AgentName,
    string
  >;
  return {
    dataDir,
    endpoints: {
      ingest: `http://${config.ingest.host}:${config.ingest.port}/events`,
      api: `http://${config.coordinator.api.host}:${config.coordinator.api.port}/api`,
      apiTokenFile,
      metrics,
      logs,
      mcp: {
        url: mcpUrl,
        tokenFile: mcpTokenFile,
        metrics: `${mcpOps}/metrics`,
        log: supervisor.logFile('mcp'),
      },
    },
    supervisor,
    crashes: () => crashes,
    stop: () => supervisor.stop(),
  };
}
