/** One HTTP POST for a sink, with the failure classified for the dispatcher's retry logic. */
import { SinkError } from './types.ts';

/** Retry-After as seconds or an HTTP date → milliseconds (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export async function postJson(
  sink: string,
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'falconer-notify', ...headers },
      body,
      signal,
      redirect: 'error',
    });
  } catch (err) {
    // Aborted (timeout) or a network error: both may pass on a later attempt.
    const aborted = signal.aborted;
    throw new SinkError(aborted ? `${sink}: timed out or aborted` : `${sink}: network error`, {
      sink,
      retryable: true,
      cause: err,
    });
  }
  // The body is never needed (and may be large): release the connection either way.
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return;
  const retryable = res.status === 429 || res.status >= 500;
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
  throw new SinkError(`${sink}: HTTP ${res.status}`, {
    sink,
    retryable,
    status: res.status,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });
}
