/**
 * The `mcp` config block (the MCP tool server, `falconer mcp`). Wire into
 * src/config/schema.ts as `mcp: McpConfigSchema,` and resolve with
 * `resolveMcpConfig(config.mcp, config)`. Optional values are `null` by
 * default (not absent) so that each has its FALCONER_MCP_* variable.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { FalconerConfig } from '../config/schema.ts';
import { FalconerError } from '../errors.ts';
import { readTokenFile } from '../util/token-file.ts';
import type { TlsFiles } from '../a2a/tls-files.ts';
import type { McpScope } from './scope.ts';

export const McpScopeSchema = z
  .object({
    /** Shown in logs and audit records: who called. */
    name: z.string().min(1).max(100),
    /** Kubernetes namespaces this credential may read; `*` = all. */
    namespaces: z.array(z.string().min(1).max(253)).min(1).max(256),
    /** Tools this credential may call; absent = all. */
    tools: z.array(z.string().min(1).max(100)).max(50).optional(),
  })
  .strict();

const McpToken = z
  .object({
    scope: McpScopeSchema,
    token: z.string().min(16).nullable().default(null),
    tokenFile: z.string().min(1).nullable().default(null),
  })
  .strict();

export const McpConfigSchema = z
  .object({
    /** Streamable HTTP listen address (`falconer mcp --listen` overrides); the endpoint is /mcp. */
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(7700),
    /** Plain HTTP /metrics, /healthz, /readyz of the HTTP mode. */
    opsPort: z.number().int().min(0).max(65535).default(7701),
    /** Shorthand: one token with scope `{ name: tokenScopeName, namespaces: ['*'] }`. */
    token: z.string().min(16).nullable().default(null),
    tokenFile: z.string().min(1).nullable().default(null),
    tokenScopeName: z.string().min(1).max(100).default('default'),
    /** One entry per client, each with its scope. */
    tokens: z.array(McpToken).max(100).default([]),
    /** The scope of stdio sessions (the local user who started the process). */
    stdioScope: McpScopeSchema.default({ name: 'stdio', namespaces: ['*'] }),
    /** Longest fromMs..toMs a call may ask for. */
    maxRangeMs: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3_600_000),
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
    /** Whole HTTP request (headers to last byte of the answer), and each backend call. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** A2A peers; null = config.agents.<agent>.url. */
    detectUrl: z.url().nullable().default(null),
    coordinatorUrl: z.url().nullable().default(null),
    /** Identity files; null = config.agents.tls, else the dev PKI's `<dataDir>/pki/mcp.*`. */
    tls: z
      .object({
        certFile: z.string().min(1).nullable().default(null),
        keyFile: z.string().min(1).nullable().default(null),
        caFile: z.string().min(1).nullable().default(null),
      })
      .strict()
      .prefault({}),
    /**
     * workload.context asks the Kubernetes API when one is configured: in-cluster
     * (KUBERNETES_SERVICE_HOST), $KUBECONFIG, or this file; `false` never asks.
     */
    kubernetes: z.union([z.boolean(), z.object({ kubeconfig: z.string().min(1) }).strict()]).default(true),
  })
  .strict()
  .prefault({});

export type McpConfig = z.infer<typeof McpConfigSchema>;

export interface McpCredential {
  readonly token: string;
  readonly scope: McpScope;
}

export interface ResolvedMcpConfig {
  readonly credentials: McpCredential[];
  readonly tls: TlsFiles;
  readonly detectUrl: string;
  readonly coordinatorUrl: string;
  readonly trustDomain: string;
  readonly namespace: string;
}

function readToken(file: string, scope: string): string {
  return readTokenFile(file, `MCP scope ${scope}`);
}

/** Reads token files (relative to dataDir) and fills peer URLs and identity files from the agents block. */
export function resolveMcpConfig(cfg: McpConfig, config: FalconerConfig): ResolvedMcpConfig {
  const dataDir = resolve(config.dataDir);
  const under = (p: string) => (isAbsolute(p) ? p : join(dataDir, p));
  const credentials: McpCredential[] = [];
  const add = (scope: McpScope, token: string | null, tokenFile: string | null) => {
    if (token !== null && tokenFile !== null) {
      throw new FalconerError(
        'CONFIG_INVALID',
        `give either a token or a tokenFile for scope ${scope.name}`,
        {
          scope: scope.name,
        },
      );
    }
    const value = token ?? (tokenFile !== null ? readToken(under(tokenFile), scope.name) : null);
    if (value !== null) credentials.push({ token: value, scope });
  };
  add({ name: cfg.tokenScopeName, namespaces: ['*'] }, cfg.token, cfg.tokenFile);
  for (const t of cfg.tokens) add(t.scope, t.token, t.tokenFile);
  if (new Set(credentials.map((c) => c.token)).size !== credentials.length) {
    throw new FalconerError('CONFIG_INVALID', 'two MCP scopes share one token', {});
  }
  const pki = join(dataDir, 'pki');
  const agentsTls = config.agents.tls;
  return {
    credentials,
    tls: {
      certFile: cfg.tls.certFile ?? agentsTls.certFile ?? join(pki, 'mcp.crt'),
      keyFile: cfg.tls.keyFile ?? agentsTls.keyFile ?? join(pki, 'mcp.key'),
      caFile: cfg.tls.caFile ?? agentsTls.caFile ?? join(pki, 'ca.crt'),
    },
    detectUrl: cfg.detectUrl ?? config.agents.detect.url,
    coordinatorUrl: cfg.coordinatorUrl ?? config.agents.coordinator.url,
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
  };
}
