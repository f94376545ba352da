/**
 * ReplayTarget over HTTP: posts each batch as NDJSON to the ingest and maps its
 * answer (see server.ts) back to file line numbers. Connection failures are
 * retried with backoff a few times, then the replay is stopped with IO_ERROR.
 */
import { FalconerError, describeError } from '../errors.ts';
import type { RejectedLine, ReplayTarget, SendResult } from './replay.ts';

export interface HttpTargetOptions {
  readonly url: string;
  /** Per-request timeout in ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Attempts on connection errors before giving up (default 5). */
  readonly connectAttempts?: number;
  readonly headers?: Record<string, string>;
  readonly sleep?: (ms: number) => Promise<void>;
}

interface ResponseBody {
  accepted?: unknown;
  rejected?: unknown;
  errors?: unknown;
}

function retryAfterSeconds(header: string | null): number {
  if (header === null) return 1;
  const s = Number(header);
  if (Number.isFinite(s) && s >= 0) return s;
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1 : Math.max(0, (date - Date.now()) / 1000);
}

function firstReason(body: ResponseBody | undefined, fallback: string): { code: string; reason: string } {
  const first: unknown = Array.isArray(body?.errors) ? body.errors[0] : undefined;
  if (typeof first === 'object' && first !== null) {
    const e = first as { code?: unknown; reason?: unknown };
    return {
      code: typeof e.code === 'string' ? e.code.slice(0, 64) : 'HTTP_ERROR',
      reason: typeof e.reason === 'string' ? e.reason.slice(0, 300) : fallback,
    };
  }
  return { code: 'HTTP_ERROR', reason: fallback };
}

function rejectedLines(body: ResponseBody, lines: readonly number[]): RejectedLine[] {
  if (!Array.isArray(body.errors)) return [];
  const out: RejectedLine[] = [];
  for (const e of body.errors as unknown[]) {
    if (typeof e !== 'object' || e === null) continue;
    const { line, code, reason } = e as { line?: unknown; code?: unknown; reason?: unknown };
    if (typeof line !== 'number') continue;
    const fileLine = lines[line - 1];
    if (fileLine === undefined) continue;
    out.push({
      line: fileLine,
      code: typeof code === 'string' ? code.slice(0, 64) : 'HTTP_ERROR',
      reason: typeof reason === 'string' ? reason.slice(0, 300) : '',
    });
  }
  return out;
}

export function createHttpTarget(opts: HttpTargetOptions): ReplayTarget {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const attempts = opts.connectAttempts ?? 5;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new FalconerError('USAGE', `invalid --url: ${opts.url.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FalconerError('USAGE', `--url must be http:// or https://, got ${url.protocol}`);
  }

  async function post(batch: Buffer): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson', ...opts.headers },
          body: batch,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        if (attempt >= attempts) {
          const cause =
            err instanceof Error && err.cause !== undefined ? `: ${describeError(err.cause)}` : '';
          throw new FalconerError('IO_ERROR', `cannot reach ${url.origin}: ${describeError(err)}${cause}`, {
            url: url.href,
          });
        }
        await sleep(Math.min(5000, 200 * 2 ** (attempt - 1)));
      }
    }
  }

  return {
    async send(batch, lines): Promise<SendResult> {
      const res = await post(batch);
      const text = await res.text();
      let body: ResponseBody | undefined;
      try {
        body = JSON.parse(text) as ResponseBody;
      } catch {
        body = undefined;
      }
      const status = res.status;
      if (status === 429 || status === 503) {
        const { reason } = firstReason(body, `HTTP ${status}`);
        return {
          kind: 'retry',
          retryAfterSeconds: retryAfterSeconds(res.headers.get('retry-after')),
          reason,
        };
      }
      if (status === 413) return { kind: 'too-large', reason: firstReason(body, 'HTTP 413').reason };
      if (
        (status === 200 || status === 207 || status === 400) &&
        body !== undefined &&
        typeof body.accepted === 'number'
      ) {
        const rejectedCount =
          typeof body.rejected === 'number' ? body.rejected : lines.length - body.accepted;
        return { kind: 'done', accepted: body.accepted, rejectedCount, rejected: rejectedLines(body, lines) };
      }
      const { code, reason } = firstReason(body, `HTTP ${status}`);
      return { kind: 'refused', code, reason: `HTTP ${status}: ${reason}` };
    },
  };
}
