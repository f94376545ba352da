/**
 * The `coordinator` config block. Optional values are `null` by default (not
 * absent) so that each has its FALCONER_COORDINATOR_* environment variable.
 *
 * Wire into src/config/schema.ts as `coordinator: CoordinatorConfigSchema,`
 * and resolve paths with `resolveCoordinatorConfig(config.coordinator, config.dataDir)`.
 */
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { FalconerError } from '../../errors.ts';
import { readTokenFile } from '../../util/token-file.ts';

const ApiUser = z
  .object({
    /** The approver identity recorded for this token's actions. */
    name: z.string().min(1).max(200),
    token: z.string().min(16).nullable().default(null),
    tokenFile: z.string().min(1).nullable().default(null),
  })
  .strict();

export const CoordinatorConfigSchema = z
  .object({
    /** `sqlite:<path>`, a file path, or `postgres://…`; null = `sqlite:<dataDir>/coordinator.db`. */
    databaseUrl: z.string().min(1).nullable().default(null),
    /** A signal joins its workload's open incident when that incident's last signal is this recent. */
    windowMs: z
      .number()
      .int()
      .positive()
      .default(15 * 60_000),
    /** An incident awaiting approval is dismissed ("approval expired") after this long. */
    approvalExpiryMs: z
      .number()
      .int()
      .positive()
      .default(60 * 60_000),
    /** Incidents driven at once. */
    concurrency: z.number().int().min(1).max(256).default(8),
    /** A peer call slower than this fails and is retried. */
    peerTimeoutMs: z.number().int().positive().default(60_000),
    retryInitialMs: z.number().int().positive().default(1000),
    retryMaxMs: z.number().int().positive().default(60_000),
    api: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(7600),
        /** Shorthand for one user named `userName`. */
        token: z.string().min(16).nullable().default(null),
        tokenFile: z.string().min(1).nullable().default(null),
        userName: z.string().min(1).max(200).default('operator'),
        /** One entry per person, so that four-eyes approvals come from two distinct identities. */
        users: z.array(ApiUser).default([]),
      })
      .strict()
      .prefault({}),
    /** HMAC secret of approve / reject links; null = `<dataDir>/coordinator-link.key`, created on first start. */
    linkSecretFile: z.string().min(1).nullable().default(null),
    /** The HITL API's URL as humans reach it (links in chat); null = http://<api.host>:<api.port>. */
    publicUrl: z.url().nullable().default(null),
  })
  .strict()
  .prefault({});

export type CoordinatorConfig = z.infer<typeof CoordinatorConfigSchema>;

export interface ApiCredential {
  user: string;
  token: string;
}

export interface ResolvedCoordinatorConfig {
  databaseUrl: string;
  linkSecretFile: string;
  publicUrl: string;
  credentials: ApiCredential[];
}

function underDataDir(dataDir: string, path: string): string {
  return isAbsolute(path) ? path : join(dataDir, path);
}

function readToken(file: string, who: string): string {
  return readTokenFile(file, `HITL API user ${who}`);
}

/** Fills the defaults that depend on dataDir and reads token files. */
export function resolveCoordinatorConfig(cfg: CoordinatorConfig, dataDir: string): ResolvedCoordinatorConfig {
  const credentials: ApiCredential[] = [];
  const add = (user: string, token: string | null, tokenFile: string | null) => {
    if (token !== null && tokenFile !== null) {
      throw new FalconerError('CONFIG_INVALID', `give either a token or a tokenFile for ${user}, not both`, {
        user,
      });
    }
    const value = token ?? (tokenFile !== null ? readToken(underDataDir(dataDir, tokenFile), user) : null);
    if (value !== null) credentials.push({ user, token: value });
  };
  add(cfg.api.userName, cfg.api.token, cfg.api.tokenFile);
  for (const u of cfg.api.users) add(u.name, u.token, u.tokenFile);
  const names = credentials.map((c) => c.user);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw new FalconerError('CONFIG_INVALID', 'two HITL API tokens for one user name', { user: dup });
  const tokens = new Set(credentials.map((c) => c.token));
  if (tokens.size !== credentials.length) {
    throw new FalconerError(
      'CONFIG_INVALID',
      'two HITL API users share one token (identities must be distinct)',
      {},
    );
  }
  return {
    databaseUrl: cfg.databaseUrl ?? `sqlite:${join(dataDir, 'coordinator.db')}`,
    linkSecretFile: underDataDir(dataDir, cfg.linkSecretFile ?? 'coordinator-link.key'),
    publicUrl: (cfg.publicUrl ?? `http://${cfg.api.host}:${cfg.api.port}`).replace(/\/+$/, ''),
    credentials,
  };
}
