/**
 * The ops port: plain HTTP on purpose (kubelet probes and Prometheus present
 * no client certificates), serving nothing but /metrics, /healthz, /readyz.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { describeError } from '../errors.ts';
import { FalconerError } from './errors.ts';

export interface OpsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  readonly ready: () => boolean | Promise<boolean>;
}

export interface OpsServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(405, 'application/json', '{"error":"method not allowed"}');
      return;
    }
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      Promise.resolve()
        .then(() => opts.ready())
        .then(
          (ok) =>
            send(ok ? 200 : 503, 'application/json', ok ? '{"status":"ready"}' : '{"status":"not ready"}'),
          (err: unknown) =>
            send(
              503,
              'application/json',
              JSON.stringify({ status: 'not ready', error: describeError(err).slice(0, 200) }),
            ),
        );
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        (err: unknown) => send(500, 'text/plain', `metrics failed: ${describeError(err)}`),
      );
      return;
    }
    send(404, 'application/json', '{"error":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new FalconerError(
          'IO_ERROR',
          `ops server cannot listen on ${opts.host}:${opts.port}: ${err.message}`,
          { host: opts.host, port: opts.port },
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
