import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { NormalizeOptions } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';

/** What the downstream (the bus, the gate) says about a batch: taken, or full for now. */
export type IngestSinkResult =
  { readonly accepted: true } | { readonly accepted: false; readonly retryAfterSeconds: number };

export type IngestSink = (events: NormalizedEvent[]) => IngestSinkResult | Promise<IngestSinkResult>;

export interface RateLimitOptions {
  /** Sustained events per second over all clients. */
  readonly eventsPerSecond: number;
  /** Events that may arrive at once over all clients. */
  readonly burst: number;
  readonly perClientEventsPerSecond: number;
  readonly perClientBurst: number;
  /** Most client addresses tracked at once (oldest forgotten first), so memory stays bounded. */
  readonly maxClients?: number;
}

/** Names match `ingest` in the typed config (src/config/schema.ts), so that section can be passed as is. */
export interface IngestLimits {
  /** Largest request body on the wire, in bytes. */
  readonly maxBodyBytes: number;
  /** Largest body after Content-Encoding is undone (zip bombs); default maxBodyBytes. */
  readonly maxDecompressedBytes?: number;
  /** Largest single event (a JSON body, or one NDJSON line), in bytes. */
  readonly maxEventBytes: number;
  readonly rateLimit: RateLimitOptions;
  /** Most per-line errors listed in a response; the counts are always complete. Default 20. */
  readonly maxErrorsListed?: number;
  /** Time allowed to receive a whole request body, in ms. Default 30 s. */
  readonly bodyTimeoutMs?: number;
}

export interface IngestServerOptions {
  readonly sink: IngestSink;
  readonly limits?: Partial<IngestLimits>;
  /** Where the ingest metrics are registered and what GET /metrics serves. */
  readonly registry?: Registry;
  /** Cluster name for workload identities when an alert names none. */
  readonly cluster?: string;
  /** Further normalization options (cluster field names, per-field limits). */
  readonly normalize?: Omit<NormalizeOptions, 'cluster'>;
  readonly logger?: Logger;
  /** Clock for the rate limiter, in ms (tests). */
  readonly now?: () => number;
}

/** One rejected event in a response; `line` for NDJSON bodies. */
export interface IngestErrorEntry {
  readonly line?: number;
  readonly code: string;
  readonly reason: string;
}

export interface IngestResponseBody {
  readonly accepted: number;
  readonly rejected: number;
  readonly errors: IngestErrorEntry[];
  /** Set when `errors` lists fewer entries than `rejected`. */
  readonly errorsTruncated?: boolean;
}
