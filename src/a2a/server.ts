/**
 * An agent's A2A server: HTTPS with mandatory client certificates (mTLS),
 * the SDK's JSON-RPC and REST transports, and the agent card.
 *
 *   POST /a2a/jsonrpc                      JSON-RPC 2.0, method "SendMessage" (A2A 1.0)
 *   POST /a2a/rest/message:send            HTTP+JSON (REST)
 *   GET  /.well-known/agent-card.json      the agent card (skills, interfaces, mTLS scheme)
 *
 * Callers send `A2A-Version: 1.0`. Bodies over 1 MiB are refused (413),
 * malformed JSON gets a parse error; both are counted in the metrics.
 */
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AgentCard, type AgentCard as AgentCardType } from '@a2a-js/sdk';
import { DefaultRequestHandler, InMemoryTaskStore, type AgentExecutor } from '@a2a-js/sdk/server';
import { agentCardHandler, jsonRpcHandler, restHandler } from '@a2a-js/sdk/server/express';
import type { Registry } from 'prom-client';
import type { AgentName } from '../agents/contracts.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { AuditSink } from './audit-sink.ts';
import type { SkillGrant } from './authz.ts';
import { peerIdentityFromSocket } from './identity.ts';
import { MemoryIdempotencyStore, type IdempotencyStore } from './idempotency.ts';
import { createServerMetrics, type A2aServerMetrics, type ServerOutcome } from './metrics.ts';
import { PeerUser, SkillRequestHandler, type RequestState } from './request-handler.ts';
import type { AnySkillDefinition } from './skill.ts';
import { TlsFileWatcher, type TlsFiles } from './tls-files.ts';
import { FalconerError } from './errors.ts';

/**
 * How long an idle A2A connection stays open. Peers call each other every few seconds under load;
 * Node's default (5 s) made most calls pay a fresh mTLS handshake.
 */
export const A2A_KEEP_ALIVE_MS = 65_000;
export const JSONRPC_PATH = '/a2a/jsonrpc';
export const REST_PATH = '/a2a/rest';
export const AGENT_CARD_PATH = '/.well-known/agent-card.json';
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface AgentCardInfo {
  readonly name?: string;
  readonly description: string;
  readonly version?: string;
  /** Public base URL (https://host:port) when the bind address is not what peers dial (0.0.0.0, a Service). */
  readonly advertiseUrl?: string;
}

export interface A2aServerOptions {
  readonly agent: AgentName;
  readonly card: AgentCardInfo;
  readonly skills: readonly AnySkillDefinition[];
  readonly tls: TlsFiles;
  readonly host: string;
  readonly port: number;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly idempotency?: IdempotencyStore;
  readonly maxBodyBytes?: number;
  /** How often to poll the TLS files for rotation (ms); default 10 s. */
  readonly tlsPollMs?: number;
  /** Override of the authorization table (tests). */
  readonly authorizationTable?: readonly SkillGrant[];
}

export interface A2aServer {
  readonly server: Server;
  readonly port: number;
  /** https://host:port */
  readonly url: string;
  readonly card: AgentCardType;
  readonly tls: TlsFileWatcher;
  readonly metrics: A2aServerMetrics;
  close(): Promise<void>;
}

/** Skills answer with messages, so the SDK's executor is never asked to run anything. */
const refuseExecutor: AgentExecutor = {
  execute: async () => {
    throw new Error('unreachable: SendMessage is handled by the Falconer skill dispatcher');
  },
  cancelTask: async () => {},
};

function buildCard(opts: A2aServerOptions, baseUrl: string): AgentCardType {
  const iface = (path: string, protocolBinding: string) => ({
    url: baseUrl + path,
    protocolBinding,
    tenant: '',
    protocolVersion: '1.0',
  });
  return {
    name: opts.card.name ?? `falconer-${opts.agent}`,
    description: opts.card.description,
    supportedInterfaces: [iface(JSONRPC_PATH, 'JSONRPC'), iface(REST_PATH, 'HTTP+JSON')],
    provider: { organization: 'Falconer', url: 'https://github.com/falconer' },
    version: opts.card.version ?? '0.1.0',
    capabilities: { streaming: false, pushNotifications: false, extensions: [], extendedAgentCard: false },
    securitySchemes: {
      mtls: {
        scheme: {
          $case: 'mtlsSecurityScheme',
          value: {
            description: `client certificate from the trust bundle with a SPIFFE id spiffe://${opts.trustDomain}/ns/${opts.namespace}/sa/falconer-<agent>; access per skill by the authorization table`,
          },
        },
      },
    },
    securityRequirements: [{ schemes: { mtls: { list: [] } } }],
    defaultInputModes: ['application/json'],
    defaultOutputModes: ['application/json'],
    skills: opts.skills.map((s) => ({
      id: s.id,
      name: s.name,
      description: s.description,
      tags: [...(s.tags ?? [])],
      examples: [],
      inputModes: ['application/json'],
      outputModes: ['application/json'],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

function requestState(req: Request): RequestState {
  const r = req as Request & { falconerState?: RequestState };
  r.falconerState ??= { counted: false };
  return r.falconerState;
}

export async function startA2aServer(opts: A2aServerOptions): Promise<A2aServer> {
  const logger = opts.logger.child({ component: 'a2a-server', agent: opts.agent });
  const metrics = createServerMetrics(opts.registry);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const tls = await TlsFileWatcher.start(opts.tls, { logger, pollMs: opts.tlsPollMs });

  const count = (req: Request, outcome: ServerOutcome, startedAt: number): void => {
    const state = requestState(req);
    if (state.counted) return;
    state.counted = true;
    metrics.requests.inc({ skill: '-', outcome });
    metrics.duration.observe({ skill: '-', outcome }, (performance.now() - startedAt) / 1000);
  };

  // The card is filled in once the port is known; handlers read it per request.
  const card = buildCard(opts, 'https://127.0.0.1:0');
  const inner = new DefaultRequestHandler(card, new InMemoryTaskStore(), refuseExecutor);
  const handler = new SkillRequestHandler({
    agent: opts.agent,
    card,
    skills: opts.skills,
    audit: opts.audit,
    logger,
    metrics,
    idempotency: opts.idempotency ?? new MemoryIdempotencyStore(),
    inner,
    ...(opts.authorizationTable ? { authorizationTable: opts.authorizationTable } : {}),
  });
  const userBuilder = (transport: 'jsonrpc' | 'rest') => async (req: Request) =>
    new PeerUser(
      peerIdentityFromSocket(req.socket as TLSSocket, opts.trustDomain, opts.namespace),
      transport,
      requestState(req),
    );

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Connections are authenticated once, at the handshake: after the certificate or the trust bundle
  // changes, a connection made before answers its current request and closes, so the caller's next
  // call handshakes against the new files (a certificate dropped from the bundle is out at once).
  let tlsGeneration = 0;
  const socketGeneration = new WeakMap<object, number>();
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((socketGeneration.get(req.socket) ?? tlsGeneration) < tlsGeneration)
      res.setHeader('Connection', 'close');
    next();
  });

  // Our own body parser first (the SDK's would stop at 100 kB with an HTML error): limit, and clear errors.
  const parseBody = express.json({
    limit: maxBodyBytes,
    type: ['application/json', 'application/a2a+json'],
    strict: false,
  });
  const bodyErrors =
    (transport: 'jsonrpc' | 'rest') =>
    (err: unknown, req: Request, res: Response, next: NextFunction): void => {
      const e = err as { type?: string; status?: number };
      const startedAt = (req as Request & { falconerStart?: number }).falconerStart ?? performance.now();
      if (e.type === 'entity.too.large') {
        count(req, 'too_large', startedAt);
        const message = `request body exceeds ${maxBodyBytes} bytes`;
        if (transport === 'jsonrpc')
          res.status(413).json({ jsonrpc: '2.0', id: null, error: { code: -32600, message } });
        else
          res.status(413).json({ error: { code: 413, status: 'RESOURCE_EXHAUSTED', message, details: [] } });
        return;
      }
      if (e.type === 'entity.parse.failed' || err instanceof SyntaxError) {
        count(req, 'malformed', startedAt);
        const message = 'request body is not valid JSON';
        if (transport === 'jsonrpc')
          res.status(200).json({ jsonrpc: '2.0', id: null, error: { code: -32700, message } });
        else res.status(400).json({ error: { code: 400, status: 'INVALID_ARGUMENT', message, details: [] } });
        return;
      }
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        count(req, 'malformed', startedAt);
        res.status(e.status).json({ error: { code: e.status, message: 'bad request body' } });
        return;
      }
      next(err);
    };
  const stamp =
    (transport: 'jsonrpc' | 'rest') =>
    (req: Request, res: Response, next: NextFunction): void => {
      const startedAt = performance.now();
      (req as Request & { falconerStart?: number }).falconerStart = startedAt;
      // Whatever the SDK refuses before our dispatcher (method, shape) is still counted.
      res.on('finish', () => count(req, res.statusCode < 400 ? 'rejected' : 'malformed', startedAt));
      // Without the header the SDK takes the request for A2A 0.3; say what to send instead.
      const version = req.header('a2a-version')?.trim();
      if (req.method === 'POST' && version !== '1.0' && version !== '1') {
        const message = `unsupported A2A-Version "${(version ?? '').slice(0, 20)}": send the header A2A-Version: 1.0`;
        if (transport === 'jsonrpc')
          res.status(200).json({ jsonrpc: '2.0', id: null, error: { code: -32009, message } });
        else
          res.status(400).json({ error: { code: 400, status: 'FAILED_PRECONDITION', message, details: [] } });
        return;
      }
      next();
    };

  app.use(
    JSONRPC_PATH,
    stamp('jsonrpc'),
    parseBody,
    bodyErrors('jsonrpc'),
    jsonRpcHandler({ requestHandler: handler, userBuilder: userBuilder('jsonrpc') }),
  );
  app.use(
    REST_PATH,
    stamp('rest'),
    parseBody,
    bodyErrors('rest'),
    restHandler({ requestHandler: handler, userBuilder: userBuilder('rest') }),
  );
  app.use(
    AGENT_CARD_PATH,
    agentCardHandler({
      agentCardProvider: async () => AgentCard.toJSON(card) as AgentCardType,
      cache: { maxAge: 60 },
    }),
  );
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 404, status: 'NOT_FOUND', message: 'no such A2A endpoint' } });
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: err instanceof Error ? err.message : String(err) }, 'a2a request failed');
    if (!res.headersSent)
      res.status(500).json({ error: { code: 500, status: 'INTERNAL', message: 'internal error' } });
  });

  const m = tls.current;
  const server = createHttpsServer(
    {
      cert: m.cert,
      key: m.key,
      ca: m.ca,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    app,
  );
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  server.keepAliveTimeout = A2A_KEEP_ALIVE_MS;
  server.on('tlsClientError', (err) => logger.debug({ err: err.message }, 'tls handshake refused'));
  server.on('secureConnection', (socket) => socketGeneration.set(socket, tlsGeneration));
  tls.onChange((next) => {
    server.setSecureContext({ cert: next.cert, key: next.key, ca: next.ca, minVersion: 'TLSv1.2' });
    tlsGeneration++;
    server.closeIdleConnections();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      tls.close();
      reject(
        new FalconerError(
          'IO_ERROR',
          `A2A server of ${opts.agent} cannot listen on ${opts.host}:${opts.port}: ${err.message}`,
          { host: opts.host, port: opts.port },
        ),
      );
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url =
    opts.card.advertiseUrl?.replace(/\/+$/, '') ??
    `https://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  const real = buildCard(opts, url);
  card.supportedInterfaces = real.supportedInterfaces;
  logger.info({ url, skills: opts.skills.map((s) => s.id) }, 'a2a server listening');

  return {
    server,
    port,
    url,
    card,
    tls,
    metrics,
    close: async () => {
      tls.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
