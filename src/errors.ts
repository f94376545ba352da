/**
 * Every error Falconer raises on purpose carries a stable code (for clients,
 * metrics and docs) and a context object (what, where) that is safe to log:
 * never put secrets or raw attacker-controlled payloads of unbounded size in it.
 */
export type ErrorCode =
  | 'EVENT_INVALID_JSON'
  | 'EVENT_INVALID_UTF8'
  | 'EVENT_SCHEMA'
  | 'EVENT_TOO_LARGE'
  | 'INGEST_BODY_TOO_LARGE'
  | 'INGEST_UNSUPPORTED_MEDIA_TYPE'
  | 'INGEST_BAD_ENCODING'
  | 'INGEST_RATE_LIMITED'
  | 'INGEST_BACKPRESSURE'
  | 'INGEST_METHOD_NOT_ALLOWED'
  | 'INGEST_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_SCHEMA_MISMATCH'
  | 'GATE_NOT_READY'
  | 'CSV_INVALID'
  | 'TRAIN_DATA_INVALID'
  | 'CONFIG_INVALID'
  | 'IO_ERROR'
  | 'USAGE';

export class FalconerError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FalconerError';
    this.code = code;
    this.context = context;
  }

  toJSON(): { code: ErrorCode; message: string; context: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, context: this.context };
  }
}

export function isFalconerError(err: unknown, code?: ErrorCode): err is FalconerError {
  return err instanceof FalconerError && (code === undefined || err.code === code);
}

/** A short, safe description of any thrown value, for logs and summaries. */
export function describeError(err: unknown): string {
  if (err instanceof FalconerError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
