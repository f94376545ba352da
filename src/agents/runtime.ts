/**
 * What every agent process shares: config, a logger and a metrics registry
 * named after the agent, its identity files, a state database (audit log and
 * idempotency records), the mTLS A2A server with the agent's skills, the
 * plain-HTTP ops server, and a clean stop on SIGTERM / SIGINT. Each agent
 * only says which skills it serves and what it runs besides.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Registry } from 'prom-client';
import { startOpsServer, type OpsServer } from '../a2a/ops-server.ts';
import { startA2aServer, type A2aServer } from '../a2a/server.ts';
import type { AnySkillDefinition } from '../a2a/skill.ts';
import type { TlsFiles } from '../a2a/tls-files.ts';
import type { FalconerConfig } from '../config/schema.ts';
import { describeError } from '../errors.ts';
import { AuditLog } from '../store/audit-log.ts';
import { openDatabase, type Store } from '../store/db.ts';
import { SqlIdempotencyStore } from '../store/idempotency.ts';
import { runUntilStopped } from '../supervisor/stop-signal.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { initTracing } from '../telemetry/tracing.ts';
import type { AgentName } from './contracts.ts';
import { resolveCoordinatorConfig } from './coordinator/config.ts';
import { createPeerClient, type PeerClient } from './peer-client.ts';

export interface AgentContext {
  readonly name: AgentName;
  readonly config: FalconerConfig;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly tls: TlsFiles;
  /** This agent's state database (audit log, processed messages; the coordinator's incidents). */
  readonly store: Store;
  /** The hash-chained audit log: every A2A call, policy decision and human decision lands here. */
  readonly audit: AuditLog;
  /** Calls other agents' skills over mTLS. */
  readonly peers: PeerClient;
}

export interface AgentParts {
  readonly description: string;
  readonly skills: readonly AnySkillDefinition[];
  ready(): boolean | Promise<boolean>;
  /** Stops what the agent runs besides its servers (called after the A2A server stopped accepting). */
  close(): Promise<void>;
}

export type AgentFactory = (ctx: AgentContext) => Promise<AgentParts>;

export interface RunningAgent {
  readonly context: AgentContext;
  readonly a2a: A2aServer;
  readonly ops: OpsServer;
  stop(): Promise<void>;
}

/** The identity files: explicit paths (Kubernetes) or the dev PKI of `falconer up`. */
export function tlsFilesFor(config: FalconerConfig, name: AgentName): TlsFiles {
  const pki = join(resolve(config.dataDir), 'pki');
  const t = config.agents.tls;
  return {
    certFile: t.certFile ?? join(pki, `${name}.crt`),
    keyFile: t.keyFile ?? join(pki, `${name}.key`),
    caFile: t.caFile ?? join(pki, 'ca.crt'),
  };
}

/** The agent's state database: the coordinator's is configurable, the others live in dataDir. */
export function stateDatabaseUrl(config: FalconerConfig, name: AgentName): string {
  const dataDir = resolve(config.dataDir);
  if (name === 'coordinator') return resolveCoordinatorConfig(config.coordinator, dataDir).databaseUrl;
  return `sqlite:${join(dataDir, `${name}.db`)}`;
}

export async function runAgent(
  name: AgentName,
  config: FalconerConfig,
  factory: AgentFactory,
  opts: { databaseUrl?: string } = {},
): Promise<RunningAgent> {
  const dataDir = resolve(config.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = createLogger({ level: config.log.level, name: `falconer-${name}` }).child({ agent: name });
  const registry = createMetricsRegistry({ agent: name });
  // Spans go to OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set; trace ids are in the logs either way.
  const tracing = await initTracing({ serviceName: `falconer-${name}` });
  const tls = tlsFilesFor(config, name);
  const store = await openDatabase(opts.databaseUrl ?? stateDatabaseUrl(config, name));
  const audit = new AuditLog(store);
  const peers = await createPeerClient({ self: name, config, tls, logger, registry });
  const context: AgentContext = { name, config, dataDir, logger, registry, tls, store, audit, peers };

  let parts: AgentParts;
  try {
    parts = await factory(context);
  } catch (err) {
    await peers.close();
    await store.close();
    throw err;
  }
  const endpoint = config.agents[name];
  const a2a = await startA2aServer({
    agent: name,
    card: { description: parts.description, advertiseUrl: endpoint.url },
    skills: parts.skills,
    tls,
    host: config.agents.host,
    port: endpoint.a2aPort,
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    audit,
    logger,
    registry,
    idempotency: new SqlIdempotencyStore(store),
  });
  const ops = await startOpsServer({
    host: config.agents.host,
    port: endpoint.opsPort,
    registry,
    ready: parts.ready,
  });
  logger.info({ a2a: a2a.url, ops: ops.url, skills: parts.skills.map((s) => s.id) }, 'agent ready');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      logger.info('agent stopping');
      await a2a.close();
      await parts.close();
      await ops.close();
      await peers.close();
      await store.close();
      await tracing.shutdown();
      logger.info('agent stopped');
      logger.flush();
    })());
  return { context, a2a, ops, stop };
}

/** Runs an agent until SIGTERM / SIGINT, then stops it cleanly and exits. */
export async function runAgentUntilSignalled(
  name: AgentName,
  config: FalconerConfig,
  factory: AgentFactory,
  opts: { databaseUrl?: string } = {},
): Promise<void> {
  const agent = await runAgent(name, config, factory, opts);
  const { logger } = agent.context;
  await runUntilStopped(agent.stop, {
    onStopping: (reason) => logger.info({ reason }, 'stopping'),
  }).catch((err: unknown) => logger.error({ err: describeError(err) }, 'unclean stop'));
}
