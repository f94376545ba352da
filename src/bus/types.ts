/**
 * The event bus carries high-volume events between the ingest and the
 * detector. Every implementation (embedded, later Kafka) has this interface
 * and is created through the registry in ./registry.ts.
 */
export interface BusRecord<T> {
  /** Partitioning key (the workload key for events): records of one key stay in order. */
  readonly key: string;
  readonly value: T;
}

export type PublishResult =
  { readonly accepted: true } | { readonly accepted: false; readonly retryAfterMs: number };

/** Called with a batch; the batch counts as delivered once the promise resolves (at-least-once). */
export type BatchHandler<T> = (records: readonly BusRecord<T>[]) => void | Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

export interface BusStats {
  readonly published: number;
  readonly delivered: number;
  readonly refused: number;
  readonly depth: number;
  readonly failedDeliveries: number;
}

export interface EventBus<T> {
  readonly kind: string;
  /** Refuses (never drops) the whole batch when the bus is full, so the caller can push back. */
  publish(topic: string, records: readonly BusRecord<T>[]): PublishResult;
  subscribe(topic: string, group: string, handler: BatchHandler<T>): Subscription;
  /** Resolves when every record published so far has been delivered. */
  drain(): Promise<void>;
  stats(): BusStats;
  close(): Promise<void>;
}
