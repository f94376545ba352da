/**
 * The Streamable HTTP transport at `/mcp`, stateless: every POST gets a fresh
 * McpServer for the scope of its bearer token (JSON answers, no sessions, no
 * server-sent streams; GET and DELETE answer 405 as the spec allows).
 *
 * Authentication: `Authorization: Bearer <token>`, hashed and compared in
 * constant time with every configured token; missing or wrong → 401 with a
 * JSON-RPC error body and `WWW-Authenticate`. Bodies over `maxBodyBytes` →
 * 413; a request slower than `requestTimeoutMs` is cut off by Node's timer.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { describeError } from '../errors.ts';
import type { McpCredential } from './config.ts';
import type { McpMetrics } from './metrics.ts';
import type { McpScope } from './scope.ts';
import { createScopedMcpServer, type McpServerDeps } from './server.ts';

export const MCP_PATH = '/mcp';

export interface McpHttpOptions extends McpServerDeps {
  readonly host: string;
  readonly port: number;
  readonly credentials: readonly McpCredential[];
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly metrics?: McpMetrics;
}

export interface McpHttpServer {
  /** http://host:port/mcp */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The scope of the token in the header; every credential is compared, in constant time each. */
export function scopeForAuthorization(
  credentials: readonly McpCredential[],
  header: string | undefined,
): McpScope | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header ?? '');
  if (!m) return undefined;
  const given = sha(m[1]!);
  let scope: McpScope | undefined;
  for (const c of credentials)
    if (timingSafeEqual(given, sha(c.token)) && scope === undefined) scope = c.scope;
  return scope;
}

function jsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startMcpHttpServer(opts: McpHttpOptions): Promise<McpHttpServer> {
  const log = opts.logger.child({ component: 'mcp-http' });
  if (opts.credentials.length === 0)
    log.warn('no MCP token configured: the HTTP endpoint refuses every request');

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== MCP_PATH)
      return jsonRpcError(res, 404, -32601, `no such endpoint (the MCP endpoint is ${MCP_PATH})`);
    const scope = scopeForAuthorization(opts.credentials, req.headers.authorization);
    if (scope === undefined) {
      opts.metrics?.authFailures.inc({
        reason: req.headers.authorization === undefined ? 'missing' : 'invalid',
      });
      req.resume();
      return jsonRpcError(
        res,
        401,
        -32001,
        'MCP_UNAUTHORIZED: a valid bearer token is required (Authorization: Bearer <token>)',
        {
          'www-authenticate': 'Bearer realm="falconer-mcp"',
        },
      );
    }
    if (req.method !== 'POST') {
      req.resume();
      return jsonRpcError(res, 405, -32000, 'this MCP server is stateless: POST JSON-RPC messages to /mcp', {
        allow: 'POST',
      });
    }
    let body: unknown;
    try {
      body = JSON.parse((await readBody(req, opts.maxBodyBytes)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return jsonRpcError(res, 413, -32600, `request body larger than ${opts.maxBodyBytes} bytes`);
      }
      return jsonRpcError(res, 400, -32700, 'parse error: the body is not JSON');
    }
    const server = createScopedMcpServer(scope, opts);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err: describeError(err) }, 'MCP HTTP request failed');
      jsonRpcError(res, 500, -32603, 'internal error');
    });
  });
  server.requestTimeout = opts.requestTimeoutMs;
  server.headersTimeout = Math.min(opts.requestTimeoutMs, 10_000);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}${MCP_PATH}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
