/**
 * The `notify` config block: which sinks get incident notifications, and how
 * hard the dispatcher tries. With no sinks configured, the file + console sink
 * alone is used, so everything works offline.
 */
import { z } from 'zod';
import { NotificationKind } from '../contracts.ts';

const delivery = {
  /** Name in metrics and delivery reports; defaults to the kind. Unique. */
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/)
    .optional(),
  /** Per-attempt timeout: a hanging endpoint is aborted after this long. */
  timeoutMs: z.number().int().min(50).max(120_000).optional(),
  /** Retries after the first attempt, on network errors, timeouts, 429 and 5xx. */
  retries: z.number().int().min(0).max(10).optional(),
  /**
   * Notification kinds this sink receives (default: all). A chat channel usually wants
   * `approval.needed`, `remediation.started`, `incident.resolved` and `incident.updated`, not every
   * dismissed false positive.
   */
  kinds: z.array(NotificationKind).min(1).max(NotificationKind.options.length).optional(),
};

const httpUrl = z.url({ protocol: /^https?$/ });

export const FileSinkConfig = z
  .object({
    kind: z.literal('file'),
    ...delivery,
    /** Relative to dataDir. */
    file: z.string().min(1).default('notifications.ndjson'),
    /** Print a one-line summary on stdout too. */
    console: z.boolean().default(true),
  })
  .strict();

export const MattermostSinkConfig = z
  .object({
    kind: z.literal('mattermost'),
    ...delivery,
    /** Incoming webhook URL (it is a credential: prefer urlFile). */
    url: httpUrl.optional(),
    urlFile: z.string().min(1).optional(),
    channel: z.string().max(64).optional(),
    username: z.string().max(64).default('Falconer'),
  })
  .strict();

export const SlackSinkConfig = z
  .object({
    kind: z.literal('slack'),
    ...delivery,
    url: httpUrl.optional(),
    urlFile: z.string().min(1).optional(),
  })
  .strict();

export const WebhookSinkConfig = z
  .object({
    kind: z.literal('webhook'),
    ...delivery,
    url: httpUrl,
    /** File holding the HMAC-SHA256 key; when set, every request is signed. */
    secretFile: z.string().min(1).optional(),
  })
  .strict();

export const SinkConfig = z.discriminatedUnion('kind', [
  FileSinkConfig,
  MattermostSinkConfig,
  SlackSinkConfig,
  WebhookSinkConfig,
]);
export type SinkConfig = z.infer<typeof SinkConfig>;

export const NotifyConfigSchema = z
  .object({
    sinks: z
      .array(SinkConfig)
      .max(20)
      .default([{ kind: 'file', file: 'notifications.ndjson', console: true }]),
    /** Deliveries in flight at once (across incidents). */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Notifications waiting beyond this are refused (NOTIFY_QUEUE_FULL), never buffered without bound. */
    queueLimit: z.number().int().min(1).max(100_000).default(1000),
    timeoutMs: z.number().int().min(50).max(120_000).default(5000),
    retries: z.number().int().min(0).max(10).default(3),
    backoffMs: z.number().int().min(1).max(60_000).default(250),
    maxBackoffMs: z.number().int().min(1).max(600_000).default(10_000),
    /** A Retry-After longer than this is cut to it. */
    maxRetryAfterMs: z.number().int().min(0).max(3_600_000).default(60_000),
    dedupe: z
      .object({
        maxKeys: z.number().int().min(1).max(10_000_000).default(100_000),
        ttlMs: z
          .number()
          .int()
          .min(1000)
          .default(7 * 24 * 3_600_000),
      })
      .strict()
      .default({ maxKeys: 100_000, ttlMs: 7 * 24 * 3_600_000 }),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    c.sinks.forEach((s, i) => {
      const name = s.name ?? s.kind;
      if (names.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sinks', i, 'name'],
          message: `duplicate sink name "${name}": give each sink a name`,
        });
      }
      names.add(name);
      if (
        (s.kind === 'mattermost' || s.kind === 'slack') &&
        (s.url === undefined) === (s.urlFile === undefined)
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['sinks', i],
          message: `${s.kind} sink needs exactly one of url or urlFile`,
        });
      }
    });
  });
export type NotifyConfig = z.infer<typeof NotifyConfigSchema>;
