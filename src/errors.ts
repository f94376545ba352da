/**
 * Every error Falconer raises on purpose carries a stable code (for clients,
 * metrics and docs) and a context object (what, where) that is safe to log:
 * never put secrets or raw attacker-controlled payloads of unbounded size in it.
 */
/**
 * The stable error codes. Each feature adds its own codes to this interface by
 * module augmentation (for example `declare module`, below), so that features
 * stay in their folders and every code is still checked by the compiler:
 *
 *   declare module '../errors.ts' { interface ErrorCodeRegistry { A2A_FORBIDDEN: true } }
 */
export interface ErrorCodeRegistry {
  EVENT_INVALID_JSON: true;
  EVENT_INVALID_UTF8: true;
  EVENT_SCHEMA: true;
  EVENT_TOO_LARGE: true;
  INGEST_BODY_TOO_LARGE: true;
  INGEST_UNSUPPORTED_MEDIA_TYPE: true;
  INGEST_BAD_ENCODING: true;
  INGEST_RATE_LIMITED: true;
  INGEST_BACKPRESSURE: true;
  INGEST_METHOD_NOT_ALLOWED: true;
  INGEST_NOT_FOUND: true;
  MODEL_INVALID: true;
  MODEL_SCHEMA_MISMATCH: true;
  GATE_NOT_READY: true;
  CSV_INVALID: true;
  TRAIN_DATA_INVALID: true;
  CONFIG_INVALID: true;
  IO_ERROR: true;
  USAGE: true;
}

export type ErrorCode = keyof ErrorCodeRegistry;

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
