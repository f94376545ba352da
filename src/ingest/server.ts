/**
 * The HTTP ingest: Falco's http_output and falcosidekick's webhook output post
 * here unchanged.
 *
 *   POST / and /events   application/json: one alert (Falco, falcosidekick)
 *                        application/x-ndjson: one alert per line (replay, batches)
 *                        Content-Encoding gzip, deflate, br or none
 *   GET  /healthz        {"status":"ok"}
 *   GET  /metrics        Prometheus text from the registry passed in
 *
 * Answers (body always {accepted, rejected, errors:[{line?, code, reason, path?}]}):
 *   200  every event accepted
 *   207  NDJSON with some lines rejected: the good lines are accepted; `errors`
 *        lists the rejected line numbers and reasons (the first maxErrorsListed)
 *   400  nothing accepted: bad JSON, invalid UTF-8, schema violation (with path), bad compression
 *   404  unknown path; 405 wrong method (with Allow)
 *   413  body or decompressed body over maxBodyBytes, a JSON event over
 *        maxEventBytes, or a batch larger than the rate limiter's burst
 *   415  unsupported Content-Type, charset or Content-Encoding
 *   429  rate limit (global or per client address), with Retry-After; nothing accepted
 *   503  the sink is full (backpressure), with Retry-After; nothing accepted
 * Attacker-controlled text is never echoed beyond a short, truncated excerpt.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { FalconerError, describeError, isFalconerError } from '../errors.ts';
import {
  countNdjsonLines,
  decodeEventBytes,
  parseNdjsonBuffer,
  toErrorRecord,
  type NdjsonRecord,
} from '../events/ndjson.ts';
import { createNormalizer } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { readBody } from './body.ts';
import { bodyKind, contentEncoding } from './content.ts';
import { createIngestMetrics, rejectReasonLabel, type IngestMetrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import type { IngestErrorEntry, IngestLimits, IngestResponseBody, IngestServerOptions } from './types.ts';

export const DEFAULT_INGEST_LIMITS: Required<IngestLimits> = Object.freeze({
  maxBodyBytes: 10 * 1024 * 1024,
  maxDecompressedBytes: 10 * 1024 * 1024,
  maxEventBytes: 64 * 1024,
  rateLimit: Object.freeze({
    eventsPerSecond: 50_000,
    burst: 100_000,
    perClientEventsPerSecond: 25_000,
    perClientBurst: 50_000,
    maxClients: 10_000,
  }),
  maxErrorsListed: 20,
  bodyTimeoutMs: 30_000,
});

export interface IngestServer {
  readonly server: Server;
  readonly registry: Registry;
  readonly metrics: IngestMetrics;
  /** Resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host?: string): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function resolveIngestLimits(partial: Partial<IngestLimits> = {}): Required<IngestLimits> {
  const maxBodyBytes = partial.maxBodyBytes ?? DEFAULT_INGEST_LIMITS.maxBodyBytes;
  return {
    maxBodyBytes,
    maxDecompressedBytes: partial.maxDecompressedBytes ?? maxBodyBytes,
    maxEventBytes: partial.maxEventBytes ?? DEFAULT_INGEST_LIMITS.maxEventBytes,
    rateLimit: { ...DEFAULT_INGEST_LIMITS.rateLimit, ...partial.rateLimit },
    maxErrorsListed: partial.maxErrorsListed ?? DEFAULT_INGEST_LIMITS.maxErrorsListed,
    bodyTimeoutMs: partial.bodyTimeoutMs ?? DEFAULT_INGEST_LIMITS.bodyTimeoutMs,
  };
}

const STATUS_FOR: Partial<Record<string, number>> = {
  INGEST_BODY_TOO_LARGE: 413,
  EVENT_TOO_LARGE: 413,
  INGEST_UNSUPPORTED_MEDIA_TYPE: 415,
  INGEST_BAD_ENCODING: 400,
};

class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function send(res: ServerResponse, reply: Reply, metrics: IngestMetrics, close: boolean): void {
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const headers: Record<string, string | number> = {
    'content-type':
      typeof reply.body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...reply.headers,
  };
  if (close) headers.connection = 'close';
  metrics.requests.inc({ status: String(reply.status) });
  res.writeHead(reply.status, headers);
  res.end(text);
}

function errorBody(entries: IngestErrorEntry[], accepted = 0, rejected = entries.length): IngestResponseBody {
  return { accepted, rejected, errors: entries };
}

function entryOf(err: FalconerError, line?: number): IngestErrorEntry {
  const path = err.context.path;
  return {
    ...(line !== undefined && { line }),
    code: err.code,
    reason: err.message,
    ...(typeof path === 'string' && { path }),
  };
}

export function createIngestServer(opts: IngestServerOptions): IngestServer {
  const limits = resolveIngestLimits(opts.limits);
  const registry = opts.registry ?? new Registry();
  const metrics = createIngestMetrics(registry);
  const now = opts.now ?? Date.now;
  const limiter = new RateLimiter(limits.rateLimit, now());
  const normalize = createNormalizer({
    ...opts.normalize,
    ...(opts.cluster !== undefined && { cluster: opts.cluster }),
    limits: { ...opts.normalize?.limits, maxEventBytes: limits.maxEventBytes },
  });
  const logger = opts.logger;

  function reject(code: string, n: number): void {
    if (n > 0) metrics.eventsRejected.inc({ reason: rejectReasonLabel(code) }, n);
  }

  async function ingest(req: IncomingMessage): Promise<{ reply: Reply; close: boolean }> {
    const kind = bodyKind(req.headers['content-type']);
    const encoding = contentEncoding(req.headers['content-encoding']);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      throw new FalconerError(
        'INGEST_BODY_TOO_LARGE',
        `request body exceeds the limit of ${limits.maxBodyBytes} bytes`,
      );
    }
    const client = req.socket.remoteAddress ?? 'unknown';
    // Under a flood, refuse before parsing: the body is only read (within limits) to count its events.
    const admitted = limiter.admit(client, now());

    const body = await readBody(req, encoding, limits);
    metrics.bodyBytes.observe({ encoding }, body.wireBytes);
    if (encoding !== 'identity') metrics.decompressedBytes.inc(body.bytes.length);

    if (!admitted.ok) {
      const carried = kind === 'json' ? 1 : countNdjsonLines(body.bytes);
      metrics.eventsReceived.inc(carried);
      reject('INGEST_RATE_LIMITED', carried);
      return { reply: rateLimited(admitted.retryAfterSeconds, admitted.scope, carried), close: false };
    }

    const records = parseRecords(kind, body.bytes);
    const n = records.length;
    metrics.eventsReceived.inc(n);

    if (n > limiter.maxBatch) {
      reject('INGEST_RATE_LIMITED', n);
      const reason = `batch of ${n} events exceeds the rate limit burst of ${limiter.maxBatch}; send smaller batches`;
      return {
        reply: new Reply(413, errorBody([{ code: 'INGEST_RATE_LIMITED', reason }], 0, n)),
        close: false,
      };
    }
    const decision = limiter.take(client, n, now());
    if (!decision.ok) {
      reject('INGEST_RATE_LIMITED', n);
      return { reply: rateLimited(decision.retryAfterSeconds, decision.scope, n), close: false };
    }

    const good: NormalizedEvent[] = [];
    const errors: IngestErrorEntry[] = [];
    let rejected = 0;
    for (const r of records) {
      if (r.ok) {
        good.push(r.event);
        continue;
      }
      rejected++;
      reject(r.code, 1);
      if (errors.length < limits.maxErrorsListed) {
        errors.push({
          ...(kind === 'ndjson' && { line: r.line }),
          code: r.code,
          reason: r.reason,
          ...(r.path !== undefined && { path: r.path }),
        });
      }
    }

    if (good.length > 0) {
      const verdict = await opts.sink(good);
      if (!verdict.accepted) {
        limiter.refund(client, n, now());
        reject('INGEST_BACKPRESSURE', good.length);
        const retry = Math.max(1, Math.ceil(verdict.retryAfterSeconds));
        const reason = `the pipeline is full; retry after ${retry} s`;
        const reply = new Reply(503, errorBody([{ code: 'INGEST_BACKPRESSURE', reason }], 0, n), {
          'retry-after': String(retry),
        });
        return { reply, close: false };
      }
      metrics.eventsAccepted.inc(good.length);
    }

    const body_: IngestResponseBody = {
      accepted: good.length,
      rejected,
      errors,
      ...(errors.length < rejected && { errorsTruncated: true }),
    };
    let status = 200;
    if (rejected > 0) status = good.length > 0 ? 207 : kind === 'json' ? statusOfJsonError(records[0]) : 400;
    return { reply: new Reply(status, body_), close: false };
  }

  function statusOfJsonError(r: NdjsonRecord<NormalizedEvent> | undefined): number {
    return r !== undefined && !r.ok ? (STATUS_FOR[r.code] ?? 400) : 400;
  }

  function parseRecords(kind: 'json' | 'ndjson', bytes: Buffer): NdjsonRecord<NormalizedEvent>[] {
    if (kind === 'ndjson')
      return parseNdjsonBuffer(bytes, { maxLineBytes: limits.maxEventBytes, decode: normalize });
    // One JSON alert per request, as Falco and falcosidekick send it.
    if (bytes.length > limits.maxEventBytes) {
      const reason = `event of ${bytes.length} bytes exceeds the limit of ${limits.maxEventBytes} bytes`;
      return [{ ok: false, line: 1, code: 'EVENT_TOO_LARGE', reason }];
    }
    try {
      return [{ ok: true, line: 1, event: decodeEventBytes(bytes, normalize) }];
    } catch (err) {
      return [toErrorRecord<NormalizedEvent>(1, err)];
    }
  }

  function rateLimited(retryAfterSeconds: number, scope: 'global' | 'client', n: number): Reply {
    const who = scope === 'client' ? 'this client' : 'the ingest';
    const reason = `rate limit for ${who} exceeded; retry after ${retryAfterSeconds} s`;
    return new Reply(429, errorBody([{ code: 'INGEST_RATE_LIMITED', reason }], 0, n), {
      'retry-after': String(retryAfterSeconds),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0];
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD')
        return send(res, methodNotAllowed('GET, HEAD'), metrics, true);
      return send(res, new Reply(200, { status: 'ok' }), metrics, false);
    }
    if (path === '/metrics') {
      if (method !== 'GET' && method !== 'HEAD')
        return send(res, methodNotAllowed('GET, HEAD'), metrics, true);
      const text = await registry.metrics();
      return send(res, new Reply(200, text, { 'content-type': registry.contentType }), metrics, false);
    }
    if (path !== '/' && path !== '/events') {
      const reason = 'not found; post alerts to /events (or /), GET /healthz, GET /metrics';
      return send(
        res,
        new Reply(404, errorBody([{ code: 'INGEST_NOT_FOUND', reason }], 0, 0)),
        metrics,
        true,
      );
    }
    if (method !== 'POST') return send(res, methodNotAllowed('POST'), metrics, true);

    let outcome: { reply: Reply; close: boolean };
    try {
      outcome = await ingest(req);
    } catch (err) {
      if (isFalconerError(err)) {
        const status = STATUS_FOR[err.code] ?? 400;
        outcome = { reply: new Reply(status, errorBody([entryOf(err)], 0, 0)), close: true };
      } else {
        logger?.error({ err: describeError(err) }, 'ingest request failed');
        const entry = { code: 'INTERNAL_ERROR', reason: 'internal error' };
        outcome = { reply: new Reply(500, errorBody([entry], 0, 0)), close: true };
      }
    }
    send(res, outcome.reply, metrics, outcome.close || !req.complete);
  }

  function methodNotAllowed(allow: string): Reply {
    const reason = `method not allowed; use ${allow}`;
    return new Reply(405, errorBody([{ code: 'INGEST_METHOD_NOT_ALLOWED', reason }], 0, 0), { allow });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger?.error({ err: describeError(err) }, 'ingest handler failed');
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
        res.end('{"accepted":0,"rejected":0,"errors":[{"code":"INTERNAL_ERROR","reason":"internal error"}]}');
      } else res.destroy();
    });
  });
  server.requestTimeout = limits.bodyTimeoutMs;
  server.headersTimeout = Math.min(limits.bodyTimeoutMs, 60_000);

  return {
    server,
    registry,
    metrics,
    listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          resolve(server.address() as AddressInfo);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
    },
  };
}
