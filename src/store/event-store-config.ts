/**
 * The `eventStore` config block (wire it under detect's config): bounds and
 * the optional snapshot, relative to dataDir.
 */
import { z } from 'zod';
import { EVENT_STORE_DEFAULTS, type EventStoreOptions } from './event-store.ts';

export const EventStoreConfigSchema = z
  .object({
    maxEvents: z.number().int().positive().max(10_000_000).default(EVENT_STORE_DEFAULTS.maxEvents),
    windowMs: z.number().int().positive().default(EVENT_STORE_DEFAULTS.windowMs),
    maxBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(EVENT_STORE_DEFAULTS.maxBytes),
    maxEventBytes: z
      .number()
      .int()
      .min(2048)
      .max(1024 * 1024)
      .default(EVENT_STORE_DEFAULTS.maxEventBytes),
    snapshot: z
      .object({
        enabled: z.boolean().default(true),
        /** Under dataDir; `.gz` compresses. */
        file: z.string().min(1).default('events.ndjson.gz'),
      })
      .strict()
      .default({ enabled: true, file: 'events.ndjson.gz' }),
  })
  .strict();
export type EventStoreConfig = z.infer<typeof EventStoreConfigSchema>;

/** Store options from the config block; `resolvePath` maps the snapshot file under dataDir. */
export function eventStoreOptions(
  config: EventStoreConfig,
  resolvePath: (file: string) => string,
): EventStoreOptions {
  return {
    maxEvents: config.maxEvents,
    windowMs: config.windowMs,
    maxBytes: config.maxBytes,
    maxEventBytes: config.maxEventBytes,
    ...(config.snapshot.enabled && { snapshotPath: resolvePath(config.snapshot.file) }),
  };
}

/**
 * The V8 old-space cap (MiB) for the process that holds the store. Without one,
 * V8 lets collectable garbage grow under load (detect peaked at ~800 MB RSS with
 * ~110 MB live). The store's byte estimate is about 3× what it really uses, so
 * half of `maxBytes` plus 256 MiB for the gate and buffers leaves ample room.
 */
export function detectHeapCapMiB(config: Pick<EventStoreConfig, 'maxBytes'>): number {
  return 256 + Math.ceil(config.maxBytes / 2 / (1024 * 1024));
}
