/**
 * The Kafka event bus (@platformatic/kafka). publish() queues records in a
 * bounded outbox that a background loop produces with acks=all (a full outbox
 * refuses, so the ingest answers 503 instead of losing events); subscribe()
 * joins a consumer group (see kafka-subscription.ts for the delivery rules).
 * start() waits for the cluster with a logged backoff and then creates the
 * topics or refuses clearly (bus.kafka.createTopics).
 */
import { Admin, ProduceAcks, Producer, stringSerializer, type MessageToProduce } from '@platformatic/kafka';
import { FalconerError, describeError, isFalconerError } from '../errors.ts';
import type { KafkaCodec } from './kafka-codec.ts';
import { KafkaBusConfigSchema, type KafkaBusConfig, type KafkaBusConfigInput } from './kafka-config.ts';
import { clientOptions } from './kafka-connection.ts';
import type { DeadLetter } from './kafka-dlq.ts';
import './kafka-errors.ts';
import { kafkaErrorText } from './kafka-error-text.ts';
import { silentKafkaLog, type KafkaLog } from './kafka-log.ts';
import { KafkaSubscription } from './kafka-subscription.ts';
import type { BatchHandler, BusRecord, BusStats, EventBus, PublishResult, Subscription } from './types.ts';

export interface KafkaBusOptions<T> {
  /** The bus.kafka block, parsed or not (it is parsed here). */
  readonly config: KafkaBusConfig | KafkaBusConfigInput;
  readonly codec: KafkaCodec<T>;
  readonly log?: KafkaLog;
  /** A handler that throws gets its batch again after this delay. */
  readonly retryDelayMs?: number;
  readonly onHandlerError?: (err: unknown, topic: string, group: string) => void;
}

type RawMessage = MessageToProduce<Buffer, Buffer, string, string>;

/** Raw record for sendRaw(): bytes as they go on the wire. */
export interface RawRecord {
  readonly key?: string | Buffer | undefined;
  readonly value: Buffer | string;
  readonly headers?: ReadonlyMap<string, string>;
}

const SEND_CHUNK = 2048;
/** Bytes per produce request: under the broker's default message.max.bytes (1 MiB) even if all go to one partition. */
const SEND_BYTES = 512 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt: number): number => Math.min(5000, 200 * 2 ** Math.min(attempt, 5));

export class KafkaBus<T> implements EventBus<T> {
  readonly kind = 'kafka';
  readonly config: KafkaBusConfig;
  private readonly codec: KafkaCodec<T>;
  private readonly log: KafkaLog;
  private readonly opts: KafkaBusOptions<T>;
  private readonly producer: Producer<Buffer, Buffer, string, string>;
  private readonly subscriptions = new Set<KafkaSubscription<T>>();
  private readonly outbox: RawMessage[] = [];
  private flushing: Promise<void> | undefined;
  private startPromise: Promise<void> | undefined;
  private markStarted!: () => void;
  private readonly started = new Promise<void>((resolve) => (this.markStarted = resolve));
  private closed = false;
  private published = 0;
  private refused = 0;
  private deadLettered = 0;
  private produceFailures = 0;

  constructor(opts: KafkaBusOptions<T>) {
    this.opts = opts;
    this.config = KafkaBusConfigSchema.parse(opts.config);
    this.codec = opts.codec;
    this.log = opts.log ?? silentKafkaLog;
    this.producer = new Producer<Buffer, Buffer, string, string>({
      ...clientOptions(this.config, 'producer'),
      acks: ProduceAcks.ALL,
      serializers: { headerKey: stringSerializer, headerValue: stringSerializer },
    });
  }

  /** Waits for the cluster (logged backoff, KAFKA_UNREACHABLE at the deadline), then checks/creates topics. */
  start(): Promise<void> {
    this.startPromise ??= this.connect().then(() => this.markStarted());
    return this.startPromise;
  }

  publish(topic: string, records: readonly BusRecord<T>[]): PublishResult {
    if (this.closed || this.outbox.length + records.length > this.config.maxOutbox) {
      this.refused += records.length;
      return { accepted: false, retryAfterMs: this.closed ? 1000 : 200 };
    }
    for (const record of records) {
      this.outbox.push({
        topic,
        ...(record.key.length > 0 && { key: Buffer.from(record.key) }),
        value: this.codec.encode(record.value),
      });
    }
    this.flushing ??= this.flushOutbox().finally(() => (this.flushing = undefined));
    return { accepted: true };
  }

  subscribe(topic: string, group: string, handler: BatchHandler<T>): Subscription {
    const subscription = new KafkaSubscription<T>({
      config: this.config,
      codec: this.codec,
      log: this.log,
      topic,
      group,
      handler,
      started: this.started,
      sendDeadLetters: (records) => this.sendDeadLetters(records),
      retryDelayMs: this.opts.retryDelayMs ?? 100,
      ...(this.opts.onHandlerError !== undefined && { onHandlerError: this.opts.onHandlerError }),
    });
    this.subscriptions.add(subscription);
    return {
      close: async () => {
        this.subscriptions.delete(subscription);
        await subscription.close();
      },
    };
  }

  /** Produces records as they are (dead letters, signals); retries until written or the bus closes. */
  async sendRaw(topic: string, records: readonly RawRecord[]): Promise<void> {
    const messages: RawMessage[] = records.map((r) => ({
      topic,
      ...(r.key !== undefined && { key: Buffer.isBuffer(r.key) ? r.key : Buffer.from(r.key) }),
      value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value),
      ...(r.headers !== undefined && { headers: new Map(r.headers) }),
    }));
    await this.sendWithRetry(messages, 'records');
  }

  /** Resolves when the outbox is written and the local consumer groups have committed everything. */
  async drain(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    for (const subscription of this.subscriptions) {
      for (;;) {
        if (this.closed) return;
        if (!subscription.busy) {
          const lag = await subscription.lag().catch(() => undefined);
          if (lag === 0n) break;
        }
        await sleep(50);
      }
    }
  }

  stats(): BusStats & {
    /** Consumed records waiting for the handler (the rest of depth is the outbox). */
    buffered: number;
    deadLettered: number;
    produceFailures: number;
    consumerRestarts: number;
    pauses: number;
  } {
    let delivered = 0;
    let failedDeliveries = 0;
    let buffered = 0;
    let deadLettered = this.deadLettered;
    let consumerRestarts = 0;
    let pauses = 0;
    for (const s of this.subscriptions) {
      delivered += s.counters.delivered;
      failedDeliveries += s.counters.failedDeliveries;
      buffered += s.buffered;
      deadLettered = Math.max(deadLettered, s.counters.deadLettered);
      consumerRestarts += s.counters.restarts;
      pauses += s.counters.pauses;
    }
    return {
      published: this.published,
      delivered,
      refused: this.refused,
      depth: this.outbox.length + buffered,
      buffered,
      failedDeliveries,
      deadLettered,
      produceFailures: this.produceFailures,
      consumerRestarts,
      pauses,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Write what the ingest accepted, for as long as a request may take; then give up loudly.
    const flushed = this.flushing ?? Promise.resolve();
    const timedOut = await Promise.race([
      flushed.then(() => false),
      sleep(this.config.requestTimeoutMs).then(() => true),
    ]);
    this.closed = true;
    if (timedOut && this.outbox.length > 0) {
      this.log.error(
        { records: this.outbox.length, brokers: this.config.brokers },
        'kafka bus closed with records it could not write (brokers unreachable)',
      );
    }
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    this.subscriptions.clear();
    await this.producer.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const { brokers, connectTimeoutMs } = this.config;
    const deadline = connectTimeoutMs === 0 ? Infinity : Date.now() + connectTimeoutMs;
    const admin = new Admin({ ...clientOptions(this.config, 'admin'), retries: 1 });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await admin.metadata({ topics: [] });
          break;
        } catch (err) {
          if (isFalconerError(err)) throw err;
          const wait = backoff(attempt);
          if (this.closed || Date.now() + wait > deadline) {
            throw new FalconerError(
              'KAFKA_UNREACHABLE',
              `no Kafka broker answered at ${brokers.join(', ')} within ${connectTimeoutMs} ms: ${kafkaErrorText(err)}`,
              { brokers, attempts: attempt + 1 },
              { cause: err },
            );
          }
          this.log.warn(
            { brokers, attempt: attempt + 1, retryInMs: wait, err: kafkaErrorText(err) },
            'kafka brokers unreachable; retrying',
          );
          await sleep(wait);
        }
      }
      await this.ensureTopics(admin);
    } finally {
      await admin.close().catch(() => undefined);
    }
  }

  private async ensureTopics(admin: Admin): Promise<void> {
    const { topics, createTopics, partitions, replicationFactor, brokers } = this.config;
    const wanted = [topics.events, topics.deadLetter, ...(topics.signals === null ? [] : [topics.signals])];
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    if (!createTopics) {
      throw new FalconerError(
        'KAFKA_TOPIC_MISSING',
        `Kafka topic(s) ${missing.join(', ')} do not exist on ${brokers.join(', ')}; create them or set bus.kafka.createTopics: true`,
        { missing, brokers },
      );
    }
    try {
      await admin.createTopics({ topics: missing, partitions, replicas: replicationFactor });
      this.log.info({ topics: missing, partitions, replicationFactor }, 'kafka topics created');
    } catch (err) {
      // Another replica may have created them at the same moment: only a topic still missing is an error.
      const now = new Set(await admin.listTopics());
      const still = missing.filter((t) => !now.has(t));
      if (still.length > 0) {
        throw new FalconerError(
          'KAFKA_TOPIC_INVALID',
          `cannot create Kafka topic(s) ${still.join(', ')}: ${describeError(err)}`,
          { topics: still, partitions, replicationFactor },
          { cause: err },
        );
      }
    }
    await this.waitForLeaders(admin, missing);
  }

  /** A new topic takes a moment to get partition leaders; producing before that fails. */
  private async waitForLeaders(admin: Admin, names: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const metadata = await admin.metadata({ topics: names, forceUpdate: true });
        const ready = names.every((name) => {
          const topic = metadata.topics.get(name);
          return topic !== undefined && topic.partitions.every((p) => p.leader >= 0);
        });
        if (ready) return;
      } catch {
        // metadata of a topic being created can fail for a moment
      }
      if (Date.now() > deadline) {
        throw new FalconerError(
          'KAFKA_TOPIC_INVALID',
          `Kafka topic(s) ${names.join(', ')} have no leader after 30 s`,
          {
            topics: names,
          },
        );
      }
      await sleep(200);
    }
  }

  private async flushOutbox(): Promise<void> {
    await this.started;
    while (this.outbox.length > 0 && !this.closed) {
      const chunk = this.outbox.slice(0, SEND_CHUNK);
      await this.sendWithRetry(chunk, 'events');
      this.outbox.splice(0, chunk.length);
      this.published += chunk.length;
    }
  }

  private async sendDeadLetters(records: readonly DeadLetter[]): Promise<void> {
    await this.sendRaw(this.config.topics.deadLetter, records);
    this.deadLettered += records.length;
    this.log.warn(
      {
        topic: this.config.topics.deadLetter,
        records: records.length,
        reasons: [...new Set(records.map((r) => r.headers.get('falconer-error-code')))],
      },
      'kafka records dead-lettered',
    );
  }

  private async sendWithRetry(messages: RawMessage[], what: string): Promise<void> {
    let start = 0;
    while (start < messages.length) {
      let end = start;
      let bytes = 0;
      while (end < messages.length && (end === start || bytes + messages[end]!.value!.length <= SEND_BYTES)) {
        bytes += messages[end]!.value!.length + (messages[end]!.key?.length ?? 0);
        end += 1;
      }
      await this.sendChunkWithRetry(messages.slice(start, end), what);
      start = end;
    }
  }

  private async sendChunkWithRetry(messages: RawMessage[], what: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producer.send({ messages });
        return;
      } catch (err) {
        this.produceFailures += 1;
        if (this.closed) {
          throw new FalconerError(
            'KAFKA_NOT_STARTED',
            `kafka bus closed before ${messages.length} ${what} were written`,
            {
              records: messages.length,
            },
          );
        }
        const wait = backoff(attempt);
        this.log.warn(
          { err: kafkaErrorText(err), records: messages.length, attempt: attempt + 1, retryInMs: wait },
          `kafka produce of ${what} failed; retrying`,
        );
        await sleep(wait);
      }
    }
  }
}
