/**
 * Calling another agent's skill over A2A with mTLS.
 *
 * Uses the SDK's JSON-RPC client (which sends `A2A-Version: 1.0`) over an
 * undici Agent that presents our certificate, trusts only the trust bundle,
 * and checks during the TLS handshake that the server's SPIFFE id is the
 * target agent's (hostname checks are replaced by that: peers are
 * identified by SPIFFE id, not by DNS name). One undici Agent per target
 * agent, rebuilt when the TLS files rotate.
 *
 * Connection errors and 5xx are retried with jittered exponential backoff,
 * always with the same messageId, so the server answers a retried call
 * from its idempotency record instead of doing the work twice.
 */
import { randomUUID } from 'node:crypto';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import type { AgentCard } from '@a2a-js/sdk';
import { Client, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { AgentName, PeerName } from '../agents/contracts.ts';
import { describeError, isFalconerError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { startSpan } from '../telemetry/tracing.ts';
import { FalconerError, isWireErrorCode } from './errors.ts';
import { agentSpiffeId, spiffeIdFromPeerCertificate } from './identity.ts';
import { createClientMetrics, type A2aClientMetrics } from './metrics.ts';
import { A2A_KEEP_ALIVE_MS, JSONRPC_PATH } from './server.ts';
import { TlsFileWatcher, type TlsFiles, type TlsMaterial } from './tls-files.ts';
import { falconerErrorInfo, isValidMessageId, parseSkillReply, skillRequestMessage } from './wire.ts';

export interface RetryPolicy {
  /** Total attempts (first included); default 4. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

export interface A2aClientOptions {
  readonly tls: TlsFiles;
  /** Who we are (for logs; our identity is in our certificate). */
  readonly self: PeerName;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly logger?: Logger;
  readonly registry?: Registry;
  readonly retry?: Partial<RetryPolicy>;
  readonly tlsPollMs?: number;
}

export interface CallOptions<O> {
  /** The target's base URL, https://host:port (the JSON-RPC path is appended). */
  readonly url: string;
  /** The target agent: its SPIFFE id must be the server certificate's. */
  readonly agent: AgentName;
  readonly skill: string;
  readonly input: unknown;
  /** Schema of the reply (src/agents/contracts.ts); the output is returned parsed. */
  readonly output: z.ZodType<O>;
  /** Idempotency key; default a new UUID. Reuse it to retry a call safely. */
  readonly messageId?: string;
  /** Parent trace context; default a new trace. */
  readonly traceparent?: string;
  /** Deadline for the whole call, retries included; default 30 s. */
  readonly timeoutMs?: number;
}

export interface A2aClient {
  call<O>(opts: CallOptions<O>): Promise<O>;
  /** Current TLS material (reloaded on rotation). */
  readonly tls: TlsFileWatcher;
  close(): Promise<void>;
}

class RetryableHttpStatus extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let e: unknown = err;
  for (let i = 0; i < 8 && e !== undefined && e !== null; i++) {
    out.push(e);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function isAbort(err: unknown): boolean {
  return causeChain(err).some(
    (e) => e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'),
  );
}

/** Connection-level failures and 5xx: worth another attempt. */
function isRetryable(err: unknown): boolean {
  const chain = causeChain(err);
  if (chain.some((e) => isFalconerError(e))) return false;
  if (chain.some((e) => e instanceof RetryableHttpStatus)) return true;
  return chain.some((e) => {
    const code = (e as { code?: unknown }).code;
    return (
      (e instanceof TypeError && e.message === 'fetch failed') ||
      (typeof code === 'string' &&
        /^(ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|UND_ERR_|ERR_SSL|EHOSTUNREACH|ENETUNREACH)/.test(code))
    );
  });
}

export async function createA2aClient(opts: A2aClientOptions): Promise<A2aClient> {
  const logger = opts.logger?.child({ component: 'a2a-client', agent: opts.self });
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...opts.retry };
  const metrics: A2aClientMetrics | undefined = opts.registry
    ? createClientMetrics(opts.registry)
    : undefined;
  const tls = await TlsFileWatcher.start(opts.tls, { ...(logger ? { logger } : {}), pollMs: opts.tlsPollMs });
  const agents = new Map<AgentName, Agent>();
  let closed = false;

  // One secure context per certificate generation, shared by every connection: without it each new
  // connection parses the key and the trust bundle again.
  let context: { material: TlsMaterial; secureContext: SecureContext } | undefined;
  const secureContextOf = (m: TlsMaterial): SecureContext => {
    if (context?.material !== m)
      context = {
        material: m,
        secureContext: createSecureContext({ cert: m.cert, key: m.key, ca: m.ca, minVersion: 'TLSv1.2' }),
      };
    return context.secureContext;
  };
  const makeAgent = (target: AgentName, m: TlsMaterial): Agent => {
    const expected = agentSpiffeId(opts.trustDomain, opts.namespace, target);
    return new Agent({
      connect: {
        secureContext: secureContextOf(m),
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        // Runs in the handshake, before any byte of the request is sent.
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          const actual = spiffeIdFromPeerCertificate(cert);
          if (actual === expected) return undefined;
          return new FalconerError(
            'A2A_PEER_IDENTITY',
            `server identity ${actual ?? '(no SPIFFE id)'} is not the expected ${expected}: refusing to send the call`,
            { expected, actual: actual ?? null },
          );
        },
      },
      // Idle connections stay open up to the server's keep-alive (A2A_KEEP_ALIVE_MS): a call on a warm
      // connection skips the TLS handshake, which on a busy machine costs more than the call itself.
      keepAliveTimeout: A2A_KEEP_ALIVE_MS - 5_000,
      keepAliveMaxTimeout: A2A_KEEP_ALIVE_MS - 5_000,
    });
  };
  const agentFor = (target: AgentName): Agent => {
    let a = agents.get(target);
    if (!a) {
      a = makeAgent(target, tls.current);
      agents.set(target, a);
    }
    return a;
  };
  // Rotation: new connections use the new certificate; in-flight requests finish on the old agents.
  tls.onChange((m) => {
    for (const [target, old] of agents) {
      agents.set(target, makeAgent(target, m));
      old.close().catch(() => {});
    }
  });

  const fetchFor =
    (target: AgentName): typeof fetch =>
    async (input, init) => {
      const res = await undiciFetch(input as Parameters<typeof undiciFetch>[0], {
        ...(init as Parameters<typeof undiciFetch>[1]),
        dispatcher: agentFor(target),
      });
      if (res.status >= 500) {
        await res.body?.cancel().catch(() => {});
        throw new RetryableHttpStatus(res.status);
      }
      return res as unknown as Response;
    };

  const clients = new Map<string, Promise<Client>>();
  const clientFor = (url: string, target: AgentName): Promise<Client> => {
    const base = url.replace(/\/+$/, '');
    const key = `${target} ${base}`;
    let c = clients.get(key);
    if (!c) {
      const endpoint = base + JSONRPC_PATH;
      // We know the endpoint; a synthetic card avoids a card fetch per peer.
      const card = {
        name: `falconer-${target}`,
        description: '',
        supportedInterfaces: [
          { url: endpoint, protocolBinding: 'JSONRPC', tenant: '', protocolVersion: '1.0' },
        ],
        provider: undefined,
        version: '',
        capabilities: {
          streaming: false,
          pushNotifications: false,
          extensions: [],
          extendedAgentCard: false,
        },
        securitySchemes: {},
        securityRequirements: [],
        defaultInputModes: ['application/json'],
        defaultOutputModes: ['application/json'],
        skills: [],
        signatures: [],
      } satisfies AgentCard;
      c = new JsonRpcTransportFactory({ fetchImpl: fetchFor(target) })
        .create(endpoint, card)
        .then((transport) => new Client(transport, card));
      clients.set(key, c);
    }
    return c;
  };

  const toFalconerError = (err: unknown, o: CallOptions<unknown>, messageId: string): FalconerError => {
    const ctx = { agent: o.agent, skill: o.skill, url: o.url, messageId };
    const identity = causeChain(err).find((e) => isFalconerError(e, 'A2A_PEER_IDENTITY'));
    if (identity) return identity as FalconerError;
    if (isFalconerError(err)) return err;
    const data =
      (err as { data?: unknown }).data ??
      (err as { errorResponse?: { error?: { data?: unknown } } }).errorResponse?.error?.data;
    const info = falconerErrorInfo(data);
    const message = err instanceof Error ? err.message : String(err);
    if (info && isWireErrorCode(info.reason)) {
      return new FalconerError(info.reason, `${o.agent}/${o.skill}: ${message}`, {
        ...ctx,
        remote: info.metadata,
      });
    }
    if (err instanceof Error && (err as { reason?: unknown }).reason !== undefined) {
      return new FalconerError('A2A_REMOTE_ERROR', `${o.agent}/${o.skill} refused the call: ${message}`, {
        ...ctx,
        reason: String((err as { reason?: unknown }).reason),
      });
    }
    if (isRetryable(err)) {
      return new FalconerError(
        'A2A_UNAVAILABLE',
        `${o.agent} at ${o.url} is unavailable: ${describeError(causeChain(err).at(-1))}`,
        ctx,
        {
          cause: err,
        },
      );
    }
    return new FalconerError(
      'A2A_PROTOCOL',
      `unexpected answer from ${o.agent} at ${o.url}: ${message.slice(0, 300)}`,
      ctx,
      { cause: err },
    );
  };

  const call = async <O>(o: CallOptions<O>): Promise<O> => {
    if (closed)
      throw new FalconerError('A2A_UNAVAILABLE', 'the A2A client is closed', {
        agent: o.agent,
        skill: o.skill,
      });
    const messageId = o.messageId ?? randomUUID();
    if (!isValidMessageId(messageId)) {
      throw new FalconerError('A2A_INVALID_INPUT', 'messageId must be 1..200 characters', { skill: o.skill });
    }
    const startedAt = performance.now();
    const span = startSpan(`a2a.client ${o.agent}/${o.skill}`, {
      ...(o.traceparent !== undefined ? { parent: o.traceparent } : {}),
      kind: 'client',
      attributes: { 'falconer.target': o.agent, 'falconer.skill': o.skill },
    });
    const deadline = AbortSignal.timeout(o.timeoutMs ?? 30_000);
    const log = logger?.child({ traceId: span.traceId, target: o.agent, skill: o.skill, messageId });
    let outcome: string = 'ok';
    try {
      const client = await clientFor(o.url, o.agent);
      const message = skillRequestMessage({
        messageId,
        skill: o.skill,
        input: o.input,
        traceparent: span.traceparent,
      });
      for (let attempt = 1; ; attempt++) {
        try {
          const result = await client.sendMessage(
            { tenant: '', message, configuration: undefined, metadata: { traceparent: span.traceparent } },
            { signal: deadline },
          );
          if (!('messageId' in result)) {
            throw new FalconerError(
              'A2A_PROTOCOL',
              `${o.agent}/${o.skill} answered with a task, expected a message`,
              { agent: o.agent, skill: o.skill },
            );
          }
          const reply = parseSkillReply(result);
          if (!reply.ok)
            throw new FalconerError('A2A_PROTOCOL', `${o.agent}/${o.skill}: ${reply.reason}`, {
              agent: o.agent,
              skill: o.skill,
            });
          const parsed = o.output.safeParse(reply.output);
          if (!parsed.success) {
            throw new FalconerError(
              'A2A_INVALID_OUTPUT',
              `${o.agent}/${o.skill} answered an output that does not match its schema`,
              {
                agent: o.agent,
                skill: o.skill,
                issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`),
              },
            );
          }
          return parsed.data;
        } catch (err) {
          if (deadline.aborted || isAbort(err)) {
            throw new FalconerError(
              'A2A_TIMEOUT',
              `${o.agent}/${o.skill} did not answer within ${o.timeoutMs ?? 30_000} ms`,
              {
                agent: o.agent,
                skill: o.skill,
                messageId,
              },
            );
          }
          if (attempt >= retry.attempts || !isRetryable(err))
            throw toFalconerError(err, o as CallOptions<unknown>, messageId);
          const delay =
            Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
          metrics?.retries.inc({ target: o.agent, skill: o.skill });
          log?.warn(
            { attempt, delayMs: Math.round(delay), err: describeError(causeChain(err).at(-1)) },
            'a2a call failed; retrying',
          );
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } catch (err) {
      const e = isFalconerError(err) ? err : toFalconerError(err, o as CallOptions<unknown>, messageId);
      outcome = e.code satisfies ErrorCode;
      span.fail(e.code);
      throw e;
    } finally {
      metrics?.calls.inc({ target: o.agent, skill: o.skill, outcome });
      metrics?.duration.observe(
        { target: o.agent, skill: o.skill, outcome },
        (performance.now() - startedAt) / 1000,
      );
      span.setAttributes({ 'falconer.outcome': outcome });
      span.end();
    }
  };

  return {
    call,
    tls,
    close: async () => {
      closed = true;
      tls.close();
      await Promise.all([...agents.values()].map((a) => a.close().catch(() => {})));
      agents.clear();
    },
  };
}
