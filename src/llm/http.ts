/**
 * One HTTP attempt against a provider: JSON in, JSON out, a per-attempt
 * timeout, and errors classified for the retry loop. The API key travels only
 * in headers; any text we quote back from the server is scrubbed of it.
 */
import { LlmAttemptError } from './errors.ts';

const MAX_ERROR_BODY_CHARS = 300;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

export interface PostOptions {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal: AbortSignal;
  /** Removed from any server text quoted in an error. */
  secret: string | undefined;
  provider: string;
}

export function scrubSecret(text: string, secret: string | undefined): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]');
}

/** Retry-After: delta-seconds or an HTTP date. Returns ms, or undefined when absent/unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The URL without its query string (which may carry an Azure api-version but never a key). */
function safeUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

export async function postJson(opts: PostOptions): Promise<unknown> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timeout]);
  const context = { provider: opts.provider, url: safeUrl(opts.url) };
  let res: Response;
  let text: string;
  try {
    res = await fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...opts.headers },
      body: JSON.stringify(opts.body),
      signal,
    });
    text = await readCapped(res, MAX_RESPONSE_BYTES);
  } catch (err) {
    if (timeout.aborted && !opts.signal.aborted) {
      throw new LlmAttemptError(
        'LLM_TIMEOUT',
        `LLM call to ${context.url} timed out after ${opts.timeoutMs} ms`,
        {
          retryable: true,
          context,
        },
      );
    }
    if (opts.signal.aborted) throw err; // the caller gave up: not the provider's fault
    const reason = scrubSecret(
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err),
      opts.secret,
    );
    throw new LlmAttemptError('LLM_UNAVAILABLE', `LLM call to ${context.url} failed: ${reason}`, {
      retryable: true,
      context,
    });
  }
  if (!res.ok) {
    const snippet = scrubSecret(text.slice(0, MAX_ERROR_BODY_CHARS), opts.secret);
    const transient = res.status === 408 || res.status === 429 || res.status >= 500;
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    throw new LlmAttemptError(
      transient ? 'LLM_UNAVAILABLE' : 'LLM_REQUEST_REJECTED',
      `LLM provider ${opts.provider} answered HTTP ${res.status} at ${context.url}: ${snippet}`,
      {
        retryable: transient,
        status: res.status,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        context,
      },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new LlmAttemptError(
      'LLM_BAD_RESPONSE',
      `LLM provider ${opts.provider} sent a body that is not JSON`,
      {
        retryable: false,
        status: res.status,
        context,
      },
    );
  }
}

/** Reads the body but refuses one larger than `max` bytes (a runaway or hostile server). */
async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new Error(`response body exceeds ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
