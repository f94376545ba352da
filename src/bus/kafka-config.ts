/**
 * The `bus.kafka` block of the configuration. Secrets are never inline: the SASL
 * password and the TLS key are read from files, so a config file can be shown
 * and logged without leaking them.
 */
import { z } from 'zod';

const HOST_PORT = /^[^\s:]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

export const KafkaTlsConfigSchema = z
  .object({
    /** PEM file with the CA(s) that signed the brokers' certificates (default: the system store). */
    ca: z.string().min(1).optional(),
    /** PEM client certificate and key for mutual TLS. */
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    /** Name to check in the broker certificate when it differs from the bootstrap host. */
    servername: z.string().min(1).optional(),
    /** Turning this off is for throwaway clusters only. */
    rejectUnauthorized: z.boolean().default(true),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'tls.cert and tls.key go together (mutual TLS needs both)',
  });

export const KafkaSaslConfigSchema = z.object({
  mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
  username: z.string().min(1),
  /** File holding the password (trailing newline ignored). */
  passwordFile: z.string().min(1),
});

export const KafkaBusConfigSchema = z.object({
  /** Bootstrap brokers, `host:port`. */
  brokers: z
    .array(z.string().regex(HOST_PORT, 'expected host:port'))
    .min(1, 'at least one broker (host:port)'),
  clientId: z.string().min(1).max(255).default('falconer'),
  /** Consumer group of the detect replicas: replicas in one group share the partitions. */
  groupId: z.string().min(1).max(255).default('falconer-detect'),
  topics: z
    .object({
      /** Falco alerts as JSON, falcosidekick's Kafka output format. */
      events: z.string().min(1).max(249).default('falco.events'),
      /** Rejected input, with the reason in headers. */
      deadLetter: z.string().min(1).max(249).default('falco.events.dlq'),
      /** Gate signal updates as JSON; off when null. */
      signals: z.string().min(1).max(249).nullable().default(null),
    })
    .prefault({}),
  /**
   * Create missing topics at start (with the partitions and replication below).
   * When false, a missing topic stops the start with KAFKA_TOPIC_MISSING.
   */
  createTopics: z.boolean().default(true),
  partitions: z.number().int().min(1).max(10_000).default(6),
  /** -1: the broker's default.replication.factor. */
  replicationFactor: z.number().int().min(-1).max(16).default(-1),
  /** Records larger than this are dead-lettered unread (default: the ingest event limit). */
  maxRecordBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Most records handed to the handler at once. */
  maxBatch: z.number().int().min(1).max(100_000).default(512),
  /** Consumed but unhandled records above which the consumer pauses fetching (backpressure). */
  maxBuffered: z.number().int().min(1).default(8192),
  /** Largest fetch response (bytes); with maxBuffered it bounds what a killed replica leaves to redeliver. */
  fetchMaxBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Records waiting to be produced above which publish() refuses (the ingest answers 503). */
  maxOutbox: z.number().int().min(1).default(50_000),
  /** Time a dead consumer keeps its partitions before the group hands them to another replica. */
  sessionTimeoutMs: z.number().int().min(1000).max(300_000).default(10_000),
  heartbeatIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  /** How long start() keeps retrying an unreachable cluster (0: forever). */
  connectTimeoutMs: z.number().int().min(0).default(60_000),
  /** Request timeout of the client. */
  requestTimeoutMs: z.number().int().min(1000).default(30_000),
  tls: KafkaTlsConfigSchema.optional(),
  sasl: KafkaSaslConfigSchema.optional(),
});

export type KafkaBusConfig = z.infer<typeof KafkaBusConfigSchema>;
export type KafkaBusConfigInput = z.input<typeof KafkaBusConfigSchema>;
