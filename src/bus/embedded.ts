import type { BatchHandler, BusRecord, BusStats, EventBus, PublishResult, Subscription } from './types.ts';

export interface EmbeddedBusOptions {
  /** Records a topic may hold undelivered before publish is refused. */
  readonly capacity: number;
  /** Largest batch handed to a handler at once. */
  readonly maxBatch: number;
  /** A handler that throws gets its batch again after this delay (at-least-once). */
  readonly retryDelayMs: number;
  readonly onHandlerError?: (err: unknown, topic: string, group: string) => void;
}

const DEFAULTS: EmbeddedBusOptions = { capacity: 100_000, maxBatch: 512, retryDelayMs: 100 };

interface Group<T> {
  readonly topic: string;
  readonly name: string;
  readonly handler: BatchHandler<T>;
  readonly queue: BusRecord<T>[];
  head: number;
  running: boolean;
  closed: boolean;
  idle: Promise<void> | undefined;
  wakeIdle: (() => void) | undefined;
}

/**
 * In-process bus: one bounded queue per (topic, consumer group), delivered in
 * order in batches. Records are removed only after the handler resolves, so a
 * failing handler sees the same batch again instead of losing it.
 */
export class EmbeddedBus<T> implements EventBus<T> {
  readonly kind = 'embedded';
  private readonly opts: EmbeddedBusOptions;
  private readonly topics = new Map<string, Group<T>[]>();
  private published = 0;
  private delivered = 0;
  private refused = 0;
  private failedDeliveries = 0;
  private closed = false;

  constructor(opts: Partial<EmbeddedBusOptions> = {}) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  publish(topic: string, records: readonly BusRecord<T>[]): PublishResult {
    if (this.closed) return { accepted: false, retryAfterMs: 1000 };
    const groups = this.topics.get(topic) ?? [];
    const fullest = groups.reduce((max, g) => Math.max(max, g.queue.length - g.head), 0);
    if (fullest + records.length > this.opts.capacity) {
      this.refused += records.length;
      return { accepted: false, retryAfterMs: 200 };
    }
    this.published += records.length;
    for (const group of groups) {
      for (const record of records) group.queue.push(record);
      this.schedule(group);
    }
    return { accepted: true };
  }

  subscribe(topic: string, group: string, handler: BatchHandler<T>): Subscription {
    const groups = this.topics.get(topic) ?? [];
    if (groups.some((g) => g.name === group)) {
      throw new Error(`embedded bus: group ${group} already subscribed to ${topic}`);
    }
    const entry: Group<T> = {
      topic,
      name: group,
      handler,
      queue: [],
      head: 0,
      running: false,
      closed: false,
      idle: undefined,
      wakeIdle: undefined,
    };
    groups.push(entry);
    this.topics.set(topic, groups);
    return {
      close: async () => {
        entry.closed = true;
        const list = this.topics.get(topic) ?? [];
        this.topics.set(
          topic,
          list.filter((g) => g !== entry),
        );
        entry.wakeIdle?.();
      },
    };
  }

  async drain(): Promise<void> {
    for (;;) {
      const pending = [...this.topics.values()].flat().filter((g) => g.queue.length > g.head || g.running);
      if (pending.length === 0) return;
      await Promise.all(pending.map((g) => this.idleOf(g)));
    }
  }

  stats(): BusStats {
    let depth = 0;
    for (const groups of this.topics.values()) for (const g of groups) depth += g.queue.length - g.head;
    return {
      published: this.published,
      delivered: this.delivered,
      refused: this.refused,
      depth,
      failedDeliveries: this.failedDeliveries,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  private idleOf(group: Group<T>): Promise<void> {
    group.idle ??= new Promise<void>((resolve) => {
      group.wakeIdle = () => {
        group.idle = undefined;
        group.wakeIdle = undefined;
        resolve();
      };
    });
    return group.idle;
  }

  private schedule(group: Group<T>): void {
    if (group.running || group.closed) return;
    group.running = true;
    setImmediate(() => void this.pump(group));
  }

  private async pump(group: Group<T>): Promise<void> {
    while (!group.closed && group.queue.length > group.head) {
      const end = Math.min(group.queue.length, group.head + this.opts.maxBatch);
      const batch = group.queue.slice(group.head, end);
      try {
        await group.handler(batch);
      } catch (err) {
        this.failedDeliveries += 1;
        this.opts.onHandlerError?.(err, group.topic, group.name);
        await new Promise((resolve) => setTimeout(resolve, this.opts.retryDelayMs));
        continue;
      }
      group.head = end;
      this.delivered += batch.length;
      // Compact now and then so the array does not grow without bound.
      if (group.head > 4096 && group.head * 2 > group.queue.length) {
        group.queue.splice(0, group.head);
        group.head = 0;
      }
    }
    group.running = false;
    group.wakeIdle?.();
  }
}
