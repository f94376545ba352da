/**
 * The notifier plug-in interface: every sink (Mattermost, Slack, webhook,
 * file) is a Notifier; the dispatcher adds timeouts, retries, dedupe and
 * metrics around them, so a sink only formats and sends once.
 */
import type { NotifyInput } from '../contracts.ts';
import { FalconerError } from '../../errors.ts';
import './errors.ts';

export interface Notifier {
  /** The sink's kind (mattermost, slack, webhook, file). */
  readonly kind: string;
  /** Unique name among the configured sinks (metrics label, delivery report). */
  readonly name: string;
  /**
   * Delivers one message or throws. Must stop when `signal` aborts (the
   * dispatcher's timeout). Throw SinkError to say whether a retry may help.
   */
  send(message: NotifyInput, signal: AbortSignal): Promise<void>;
}

/** A failed delivery attempt: retryable (network error, 429, 5xx, timeout) or not (4xx, bad config). */
export class SinkError extends FalconerError {
  readonly retryable: boolean;
  /** From a Retry-After header, when the endpoint sent one. */
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;

  constructor(
    message: string,
    opts: { sink: string; retryable: boolean; retryAfterMs?: number; status?: number; cause?: unknown },
  ) {
    super(
      'NOTIFY_SINK_FAILED',
      message,
      { sink: opts.sink, ...(opts.status !== undefined && { status: opts.status }) },
      opts.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.status = opts.status;
  }
}
