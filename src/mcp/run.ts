/**
 * Starting the MCP tool server from the config: the backend (A2A mTLS as
 * identity `mcp`, or in process from an event store snapshot and the
 * coordinator's database), the Kubernetes client, then the HTTP transport
 * with its ops server, or the stdio transport. Used by `falconer mcp`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startOpsServer, type OpsServer } from '../a2a/ops-server.ts';
import type { FalconerConfig } from '../config/schema.ts';
import { FalconerError } from '../errors.ts';
import { openDatabase } from '../store/db.ts';
import { EventStore } from '../store/event-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createMetricsRegistry } from '../telemetry/metrics.ts';
import { createA2aBackend, createLocalBackend, type McpBackend } from './backend.ts';
import { resolveMcpConfig, type McpConfig } from './config.ts';
import { startMcpHttpServer, type McpHttpServer } from './http.ts';
import { createMcpMetrics } from './metrics.ts';
import { serveMcpStdio } from './stdio.ts';
import { kubeConfigFrom } from './workload-context.ts';

export interface McpRunOptions {
  readonly config: FalconerConfig;
  readonly mcp: McpConfig;
  readonly logger: Logger;
  /** In-process backend: an event store snapshot (NDJSON, .gz) and/or the coordinator's database URL. */
  readonly local?: { readonly eventsFile?: string; readonly incidentsDb?: string };
}

export async function createBackendFromConfig(opts: McpRunOptions): Promise<McpBackend> {
  if (opts.local !== undefined) {
    let events: EventStore | undefined;
    if (opts.local.eventsFile !== undefined) {
      // A store without a snapshot path: reading never rewrites the file.
      events = new EventStore({ maxEvents: 1_000_000 });
      await events.loadSnapshot(resolve(opts.local.eventsFile));
    }
    const db = opts.local.incidentsDb !== undefined ? await openDatabase(opts.local.incidentsDb) : undefined;
    return createLocalBackend({
      ...(events ? { events } : {}),
      ...(db ? { incidents: db.db } : {}),
      close: async () => {
        await db?.close();
      },
    });
  }
  const resolved = resolveMcpConfig(opts.mcp, opts.config);
  const usesDevPki = opts.mcp.tls.certFile === null && opts.config.agents.tls.certFile === null;
  const pkiDir = join(resolve(opts.config.dataDir), 'pki');
  // The dev PKI of `falconer up`: issue mcp's certificate next to the agents' (never a new CA under running agents).
  if (usesDevPki && existsSync(join(pkiDir, 'ca.key'))) {
    const { ensureDevPki } = await import('../a2a/pki.ts');
    await ensureDevPki({
      dir: pkiDir,
      trustDomain: resolved.trustDomain,
      namespace: resolved.namespace,
      agents: ['mcp'],
    });
  }
  return createA2aBackend({
    tls: resolved.tls,
    trustDomain: resolved.trustDomain,
    namespace: resolved.namespace,
    detectUrl: resolved.detectUrl,
    coordinatorUrl: resolved.coordinatorUrl,
    timeoutMs: opts.mcp.requestTimeoutMs,
    logger: opts.logger,
  });
}

export interface RunningMcpHttp {
  readonly http: McpHttpServer;
  readonly ops: OpsServer | undefined;
  stop(): Promise<void>;
}

export async function startMcpHttp(
  opts: McpRunOptions & { readonly host: string; readonly port: number; readonly opsPort?: number },
): Promise<RunningMcpHttp> {
  const resolved = resolveMcpConfig(opts.mcp, opts.config);
  const registry = createMetricsRegistry({ agent: 'mcp' });
  const backend = await createBackendFromConfig(opts);
  const http = await startMcpHttpServer({
    host: opts.host,
    port: opts.port,
    credentials: resolved.credentials,
    maxBodyBytes: opts.mcp.maxBodyBytes,
    requestTimeoutMs: opts.mcp.requestTimeoutMs,
    timeoutMs: opts.mcp.requestTimeoutMs,
    maxRangeMs: opts.mcp.maxRangeMs,
    backend,
    kube: await kubeConfigFrom(opts.mcp.kubernetes),
    logger: opts.logger,
    metrics: createMcpMetrics(registry),
  });
  const ops =
    opts.opsPort !== undefined
      ? await startOpsServer({ host: opts.host, port: opts.opsPort, registry, ready: () => true })
      : undefined;
  opts.logger.info(
    { mcp: http.url, ops: ops?.url, scopes: resolved.credentials.map((c) => c.scope.name) },
    'MCP server listening',
  );
  return {
    http,
    ops,
    stop: async () => {
      await http.close();
      await ops?.close();
      await backend.close();
    },
  };
}

export async function runMcpStdio(opts: McpRunOptions): Promise<void> {
  const backend = await createBackendFromConfig(opts);
  try {
    await serveMcpStdio(opts.mcp.stdioScope, {
      backend,
      kube: await kubeConfigFrom(opts.mcp.kubernetes),
      maxRangeMs: opts.mcp.maxRangeMs,
      timeoutMs: opts.mcp.requestTimeoutMs,
      logger: opts.logger,
    });
  } finally {
    await backend.close();
  }
}

/** host:port, [v6]:port or a bare port. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new FalconerError(
      'USAGE',
      `--listen expects host:port (e.g. 127.0.0.1:7700), got ${value.slice(0, 100)}`,
      {},
    );
  }
  return { host: m[1] || m[2] || '127.0.0.1', port };
}
