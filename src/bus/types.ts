/**
 * The event bus carries high-volume events between the ingest and the
 * detector. Every implementation (embedded, later Kafka) has this interface
 * and is created through the registry in ./registry.ts.
 */
export interface BusRecord<T> {
  /** Partitioning key (the workload key for events): records of one key stay in order. */
  readonly key: string;
  readonly value: T;
  /** Where a record came from, on buses that have such a place (Kafka); absent on the embedded bus. */
  readonly origin?: RecordOrigin;
}

/** A consumed record's position and produce time (epoch ms, as the producer stamped it). */
export interface RecordOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestampMs: number;
}

export type PublishResult =
  { readonly accepted: true } | { readonly accepted: false; readonly retryAfterMs: number };

/** Called with a batch; the batch counts as delivered once the promise resolves (at-least-once). */
export type BatchHandler<T> = (records: readonly BusRecord<T>[]) => void | Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

/** Called when a consumer stops or restarts for a reason the handler did not cause (network, rebalance…). */
export type BusErrorListener = (err: unknown, where: string) => void;

export interface BusStats {
  readonly published: number;
  readonly delivered: number;
  readonly refused: number;
  readonly depth: number;
  readonly failedDeliveries: number;
}

export interface EventBus<T> {
  readonly kind: string;
  /**
   * Connects and checks topics, for buses that live outside the process (Kafka);
   * rejects with a clear FalconerError when it cannot. Call once before use; absent
   * on the embedded bus, which has nothing to wait for.
   */
  start?(): Promise<void>;
  /** Refuses (never drops) the whole batch when the bus is full, so the caller can push back. */
  publish(topic: string, records: readonly BusRecord<T>[]): PublishResult;
  subscribe(topic: string, group: string, handler: BatchHandler<T>): Subscription;
  /** Resolves when every record published so far has been delivered. */
  drain(): Promise<void>;
  stats(): BusStats;
  close(): Promise<void>;
}
