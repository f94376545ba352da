/**
 * Starts the coordinator's stateful half from its config block: the
 * database, the audit log and idempotency store (handed to the A2A server),
 * the link signer, the engine (resuming every open incident) and the HITL
 * API. The A2A server and the peers' A2A client are wired by the caller.
 */
import type { Registry } from 'prom-client';
import { AuditLog } from '../../store/audit-log.ts';
import { openDatabase, type Store } from '../../store/db.ts';
import { SqlIdempotencyStore } from '../../store/idempotency.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { resolveCoordinatorConfig, type CoordinatorConfig } from './config.ts';
import { Coordinator } from './engine.ts';
import { startHitlApi, type HitlApiServer } from './hitl-api.ts';
import { LinkSigner, loadLinkSecret } from './link-tokens.ts';
import type { CoordinatorPeers } from './peers.ts';
import type { RulesConfig } from '../../rules/delivery/config.ts';
import type { RulePeers } from './rules/proposer.ts';
import { createRuleProposals, type RuleProposals } from './rules/setup.ts';

export interface CoordinatorService {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly idempotency: SqlIdempotencyStore;
  readonly coordinator: Coordinator;
  readonly api: HitlApiServer;
  /** Rule proposals, when the caller gave detect's rule skills. */
  readonly rules?: RuleProposals;
  close(): Promise<void>;
}

export async function startCoordinatorService(opts: {
  config: CoordinatorConfig;
  dataDir: string;
  /** An already open store (the agent runtime's); otherwise the configured database is opened here. */
  store?: Store;
  peers: CoordinatorPeers;
  logger: Logger;
  registry?: Registry;
  /** The `rules` config block and detect's rule skills: rule proposals for true positives. */
  rules?: { config: RulesConfig; peers: RulePeers };
}): Promise<CoordinatorService> {
  const resolved = resolveCoordinatorConfig(opts.config, opts.dataDir);
  const linkSigner = new LinkSigner(loadLinkSecret(resolved.linkSecretFile, { create: true }));
  if (resolved.credentials.length === 0) {
    opts.logger.warn('no HITL API token configured: the API refuses every request (chat links still work)');
  }
  const ownStore = opts.store === undefined;
  const store = opts.store ?? (await openDatabase(resolved.databaseUrl));
  const audit = new AuditLog(store);
  const rules =
    opts.rules === undefined
      ? undefined
      : createRuleProposals({
          config: opts.rules.config,
          dataDir: opts.dataDir,
          store,
          peers: opts.rules.peers,
          audit,
          logger: opts.logger,
          retry: { initialMs: opts.config.retryInitialMs, maxMs: opts.config.retryMaxMs },
        });
  const coordinator = new Coordinator({
    store,
    peers: opts.peers,
    logger: opts.logger,
    audit,
    linkSigner,
    publicUrl: resolved.publicUrl,
    windowMs: opts.config.windowMs,
    approvalExpiryMs: opts.config.approvalExpiryMs,
    concurrency: opts.config.concurrency,
    peerTimeoutMs: opts.config.peerTimeoutMs,
    retry: { initialMs: opts.config.retryInitialMs, maxMs: opts.config.retryMaxMs },
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(rules ? { onTruePositive: rules.onTruePositive } : {}),
  });
  let api: HitlApiServer;
  try {
    api = await startHitlApi({
      coordinator,
      store,
      credentials: resolved.credentials,
      linkSigner,
      audit,
      logger: opts.logger,
      host: opts.config.api.host,
      port: opts.config.api.port,
      ...(rules ? { rules: { store: rules.store, gate: rules.gate } } : {}),
    });
  } catch (err) {
    if (ownStore) await store.close();
    throw err;
  }
  await coordinator.resume();
  await rules?.proposer.resume();
  return {
    store,
    audit,
    idempotency: new SqlIdempotencyStore(store),
    coordinator,
    api,
    ...(rules ? { rules } : {}),
    async close() {
      await api.close();
      await coordinator.close();
      await rules?.close();
      if (ownStore) await store.close();
    },
  };
}
