/**
 * Calls other agents' skills by agent name: the peer URLs come from the
 * config (loopback under `falconer up`, Services in Kubernetes), identity and
 * server verification from the mTLS client in src/a2a.
 */
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { createA2aClient, type A2aClient } from '../a2a/client.ts';
import type { TlsFiles } from '../a2a/tls-files.ts';
import type { FalconerConfig } from '../config/schema.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AgentName } from './contracts.ts';

export interface PeerCallOptions {
  /** Deterministic per unit of work, so that a retry is deduplicated by the peer. */
  readonly messageId: string;
  readonly traceparent: string;
  readonly timeoutMs?: number;
}

export interface PeerClient {
  call<O>(
    agent: AgentName,
    skill: string,
    input: unknown,
    output: z.ZodType<O>,
    opts: PeerCallOptions,
  ): Promise<O>;
  close(): Promise<void>;
}

export async function createPeerClient(opts: {
  self: AgentName;
  config: FalconerConfig;
  tls: TlsFiles;
  logger: Logger;
  registry: Registry;
}): Promise<PeerClient> {
  const { config } = opts;
  const client: A2aClient = await createA2aClient({
    tls: opts.tls,
    self: opts.self,
    trustDomain: config.agents.trustDomain,
    namespace: config.agents.namespace,
    logger: opts.logger,
    registry: opts.registry,
  });
  return {
    call: (agent, skill, input, output, callOpts) =>
      client.call({
        url: config.agents[agent].url,
        agent,
        skill,
        input,
        output,
        messageId: callOpts.messageId,
        traceparent: callOpts.traceparent,
        timeoutMs: callOpts.timeoutMs ?? config.agents.callTimeoutMs,
      }),
    close: () => client.close(),
  };
}
