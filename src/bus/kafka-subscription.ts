/**
 * One consumer-group member of the Kafka bus. Delivery is at-least-once:
 *  - records are decoded here (bad ones go to the dead-letter topic first),
 *  - the handler gets them in batches, and a batch's offsets are committed only
 *    after the handler resolved (scored and stored); a failing handler sees the
 *    same batch again,
 *  - records are pulled from the stream (paused mode) only when the handler is
 *    free: when it lags, the stream's buffer fills to its high-water mark and
 *    the client stops fetching until it is read again (backpressure),
 *  - when the consumer fails (broker gone, group fenced) it is closed and a new
 *    one joins the group after a backoff; on close it finishes the batch in
 *    hand, commits, and leaves the group so the partitions move at once.
 */
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { FalconerError } from '../errors.ts';
import { kafkaErrorText } from './kafka-error-text.ts';
import type { KafkaCodec } from './kafka-codec.ts';
import type { KafkaBusConfig } from './kafka-config.ts';
import { clientOptions } from './kafka-connection.ts';
import { deadLetterOf, type DeadLetter } from './kafka-dlq.ts';
import type { KafkaLog } from './kafka-log.ts';
import type { BatchHandler, BusRecord } from './types.ts';

type RawMessage = Message<Buffer, Buffer, string, string>;
type RawStream = MessagesStream<Buffer, Buffer, string, string>;

export interface SubscriptionDeps<T> {
  readonly config: KafkaBusConfig;
  readonly codec: KafkaCodec<T>;
  readonly log: KafkaLog;
  readonly topic: string;
  readonly group: string;
  readonly handler: BatchHandler<T>;
  /** Resolves once the bus has started (topics exist); consumers wait for it. */
  readonly started: Promise<void>;
  readonly sendDeadLetters: (records: readonly DeadLetter[]) => Promise<void>;
  readonly retryDelayMs: number;
  readonly onHandlerError?: (err: unknown, topic: string, group: string) => void;
}

export interface SubscriptionCounters {
  delivered: number;
  deadLettered: number;
  failedDeliveries: number;
  restarts: number;
  /** Times the consumer found its buffer full, so fetching had stopped (backpressure). */
  pauses: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class KafkaSubscription<T> {
  readonly counters: SubscriptionCounters = {
    delivered: 0,
    deadLettered: 0,
    failedDeliveries: 0,
    restarts: 0,
    pauses: 0,
  };
  private readonly deps: SubscriptionDeps<T>;
  private closed = false;
  private consumer: Consumer<Buffer, Buffer, string, string> | undefined;
  private stream: RawStream | undefined;
  private processing: Promise<void> | undefined;
  /** Next offset to commit per "topic:partition", of handled records only. */
  private readonly handled = new Map<string, { topic: string; partition: number; offset: bigint }>();
  private committing: Promise<void> | undefined;
  /** Set while a consumer leaves: its last commit is tried once, not retried. */
  private leaving = false;
  private readonly running: Promise<void>;
  private wakeStreamEnd: ((err?: unknown) => void) | undefined;

  constructor(deps: SubscriptionDeps<T>) {
    this.deps = deps;
    this.running = this.run();
  }

  get buffered(): number {
    return this.stream?.readableLength ?? 0;
  }

  get busy(): boolean {
    return this.processing !== undefined || this.buffered > 0 || this.committing !== undefined;
  }

  /** Records of the group not yet committed on `topic` (all members, all partitions). */
  async lag(): Promise<bigint | undefined> {
    const consumer = this.consumer;
    if (consumer === undefined) return undefined;
    const { topic } = this.deps;
    const ends = (await consumer.listOffsets({ topics: [topic] })).get(topic) ?? [];
    const partitions = ends.map((_, i) => i);
    const committed = (await consumer.listCommittedOffsets({ topics: [{ topic, partitions }] })).get(topic);
    let lag = 0n;
    ends.forEach((end, i) => {
      const done = committed?.[i] ?? -1n;
      lag += end - (done < 0n ? 0n : done);
    });
    return lag;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeStreamEnd?.();
    await this.running;
  }

  private async run(): Promise<void> {
    await this.deps.started.catch(() => undefined);
    let attempt = 0;
    while (!this.closed) {
      try {
        await this.consumeOnce(() => (attempt = 0));
      } catch (err) {
        if (!this.closed) {
          this.counters.restarts += 1;
          this.deps.log.warn(
            { err: kafkaErrorText(err), topic: this.deps.topic, group: this.deps.group, attempt },
            'kafka consumer stopped; rejoining the group after a pause',
          );
        }
      }
      if (this.closed) break;
      await sleep(Math.min(10_000, 250 * 2 ** Math.min(attempt, 6)));
      attempt += 1;
    }
  }

  /** One consumer's life: join, consume until it fails or the subscription closes, then leave. */
  private async consumeOnce(onJoined: () => void): Promise<void> {
    const { config, topic, group } = this.deps;
    const consumer = new Consumer<Buffer, Buffer, string, string>({
      ...clientOptions(config, 'detect'),
      groupId: group,
      autocommit: false,
      sessionTimeout: config.sessionTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      rebalanceTimeout: Math.max(config.sessionTimeoutMs, 30_000),
      maxWaitTime: 200,
      maxBytes: config.fetchMaxBytes,
      maxBytesPerPartition: Math.max(1024, Math.floor(config.fetchMaxBytes / 4)),
      highWaterMark: config.maxBuffered,
      deserializers: {
        headerKey: (b?: Buffer) => (b === undefined ? '' : b.toString()),
        headerValue: (b?: Buffer) => (b === undefined ? '' : b.toString()),
      },
    });
    this.consumer = consumer;
    consumer.on('consumer:group:join', (p) =>
      this.deps.log.info(
        { topic, group, memberId: p.memberId, assignments: p.assignments?.map((a) => a.partitions) },
        'kafka consumer joined the group',
      ),
    );
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
      });
      this.stream = stream;
      onJoined();
      await new Promise<void>((resolve, reject) => {
        this.wakeStreamEnd = (err?: unknown) => (err === undefined ? resolve() : reject(err));
        stream.on('readable', () => this.kick(stream));
        stream.on('error', (err: Error) => reject(err));
        stream.on('close', () => resolve());
        if (this.closed) resolve();
      });
    } finally {
      this.wakeStreamEnd = undefined;
      this.leaving = true;
      // Finish the batch in hand and commit it before leaving, so the next owner starts after it.
      await this.settle();
      // Offsets this member could not commit are not carried to the next one: the group re-reads them.
      this.handled.clear();
      this.leaving = false;
      const stream = this.stream;
      this.stream = undefined;
      this.consumer = undefined;
      await stream?.close().catch(() => undefined);
      await new Promise<void>((resolve) =>
        consumer.close(true, (err) => {
          if (err)
            this.deps.log.warn(
              { err: kafkaErrorText(err), topic, group },
              'kafka consumer did not close cleanly',
            );
          resolve();
        }),
      );
    }
  }

  /** Starts pulling when records are readable and no batch is in hand. */
  private kick(stream: RawStream): void {
    if (this.closed || this.processing !== undefined) return;
    this.processing = this.pull(stream).finally(() => {
      this.processing = undefined;
      if (stream.readableLength > 0 && this.stream === stream) this.kick(stream);
    });
  }

  private async pull(stream: RawStream): Promise<void> {
    const { maxBatch } = this.deps.config;
    while (!this.closed) {
      if (stream.readableLength >= stream.readableHighWaterMark) this.counters.pauses += 1;
      const batch: RawMessage[] = [];
      for (
        let m: RawMessage | null;
        batch.length < maxBatch && (m = stream.read() as RawMessage | null) !== null;
      ) {
        batch.push(m);
      }
      if (batch.length === 0) return;
      await this.handleBatch(batch);
    }
  }

  private async handleBatch(batch: readonly RawMessage[]): Promise<void> {
    const { codec, config } = this.deps;
    const good: BusRecord<T>[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch) {
      const origin = {
        topic: message.topic,
        partition: message.partition,
        offset: message.offset,
        timestampMs: Number(message.timestamp),
      };
      try {
        const bytes = message.value;
        if (bytes === undefined || bytes === null || bytes.length === 0) {
          throw new FalconerError('EVENT_INVALID_JSON', 'record has no value (empty or tombstone)');
        }
        if (bytes.length > config.maxRecordBytes) {
          throw new FalconerError(
            'EVENT_TOO_LARGE',
            `record of ${bytes.length} bytes exceeds the limit of ${config.maxRecordBytes} bytes`,
            { bytes: bytes.length, limit: config.maxRecordBytes },
          );
        }
        const value = codec.decode(bytes);
        const key = message.key !== undefined && message.key !== null && message.key.length > 0;
        good.push({ key: key ? message.key.toString() : codec.keyOf(value), value, origin });
      } catch (error) {
        dead.push(deadLetterOf({ ...origin, key: message.key ?? undefined, value: message.value, error }));
      }
    }
    if (dead.length > 0) {
      // Dead letters are written (acks=all) before the offsets move past them.
      await this.deps.sendDeadLetters(dead);
      this.counters.deadLettered += dead.length;
    }
    if (good.length > 0) await this.deliver(good);
    for (const message of batch) {
      const key = `${message.topic}:${message.partition}`;
      const next = message.offset + 1n;
      const prev = this.handled.get(key);
      if (prev === undefined || prev.offset < next) {
        this.handled.set(key, { topic: message.topic, partition: message.partition, offset: next });
      }
    }
    this.committing ??= this.commitHandled().finally(() => (this.committing = undefined));
  }

  private async deliver(records: readonly BusRecord<T>[]): Promise<void> {
    for (;;) {
      try {
        await this.deps.handler(records);
        this.counters.delivered += records.length;
        return;
      } catch (err) {
        this.counters.failedDeliveries += 1;
        this.deps.onHandlerError?.(err, this.deps.topic, this.deps.group);
        // Closing gives the batch up uncommitted: the next owner gets it again.
        if (this.closed) throw err;
        await sleep(this.deps.retryDelayMs);
      }
    }
  }

  /** Commits what was handled; one commit in flight, later batches coalesce into the next one. */
  private async commitHandled(): Promise<void> {
    while (this.handled.size > 0) {
      const consumer = this.consumer;
      const taken = [...this.handled.values()];
      this.handled.clear();
      if (consumer === undefined) return;
      try {
        await consumer.commit({ offsets: taken.map((o) => ({ ...o, leaderEpoch: -1 })) });
      } catch (err) {
        this.deps.log.warn(
          { err: kafkaErrorText(err), topic: this.deps.topic, group: this.deps.group },
          'kafka offset commit failed; retrying',
        );
        // Keep them for the next try unless a later batch moved past them (the coordinator may be moving).
        // If a rebalance took the partitions, the new owner re-reads from the last commit: duplicates, no loss.
        for (const o of taken) {
          const key = `${o.topic}:${o.partition}`;
          if (!this.handled.has(key)) this.handled.set(key, o);
        }
        if (this.closed || this.leaving || this.consumer !== consumer) return;
        await sleep(250);
      }
    }
  }

  private async settle(): Promise<void> {
    while (this.processing !== undefined || this.committing !== undefined) {
      await this.processing?.catch(() => undefined);
      await this.committing;
    }
  }
}
