import { z } from 'zod';
import { KafkaBusConfigSchema } from '../bus/kafka-config.ts';
import { AgentsConfigSchema } from '../agents/config.ts';
import { AnalyseConfigSchema } from '../agents/analyse/config.ts';
import { CoordinatorConfigSchema } from '../agents/coordinator/config.ts';
import { NotifyConfigSchema } from '../agents/notify/config.ts';
import { LlmConfigSchema } from '../llm/config.ts';
import { McpConfigSchema } from '../mcp/config.ts';
import { PolicyConfig } from '../policy/config.ts';
import { PromptsConfigSchema } from '../prompts/config.ts';
import { RulesConfigSchema } from '../rules/delivery/config.ts';
import { EventStoreConfigSchema } from '../store/event-store-config.ts';

/** Falconer's one typed configuration. Every key has a default, so an empty file is a valid config. */
export const ConfigSchema = z
  .object({
    /** Falco has no cluster field; this names the cluster in workload identities. */
    cluster: z.string().min(1).max(128).default('default'),
    /** Where models, state and the dev PKI live. */
    dataDir: z.string().min(1).default('.falconer'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info') })
      .prefault({}),
    ingest: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(2801),
        maxBodyBytes: z
          .number()
          .int()
          .positive()
          .default(10 * 1024 * 1024),
        maxEventBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024),
        rateLimit: z
          .object({
            eventsPerSecond: z.number().positive().default(50_000),
            burst: z.number().positive().default(100_000),
            perClientEventsPerSecond: z.number().positive().default(25_000),
            perClientBurst: z.number().positive().default(50_000),
          })
          .prefault({}),
      })
      .prefault({}),
    bus: z
      .object({
        kind: z.string().min(1).default('embedded'),
        capacity: z.number().int().positive().default(20_000),
        /** The Kafka bus (kind: kafka): brokers, topics, consumer group, TLS / SASL. */
        kafka: KafkaBusConfigSchema.optional(),
      })
      .prefault({}),
    gate: z
      .object({
        trees: z.number().int().min(1).max(1000).default(100),
        sampleSize: z.number().int().min(2).max(65536).default(256),
        seed: z.number().int().default(1),
        /** Share of events forwarded to the agents when the threshold is calibrated. */
        forwardRate: z.number().gt(0).lt(1).default(0.005),
        /** A fixed anomaly score threshold instead of calibration. */
        fixedThreshold: z.number().gt(0).lt(1).nullable().default(null),
        /** Events seen before the first model is trained (the featurizer learns on them too). */
        warmupEvents: z.number().int().min(100).default(20_000),
        /** Retrain on the sliding window after this many events… */
        retrainEveryEvents: z.number().int().min(100).default(100_000),
        /** …or this much event time, whichever comes first. */
        retrainEveryMs: z
          .number()
          .int()
          .positive()
          .default(30 * 60_000),
        /** Events grouped into one signal per workload within this window. */
        signalWindowMs: z.number().int().positive().default(60_000),
        /** Where the current model is saved and loaded from (relative to dataDir). */
        modelFile: z.string().min(1).default('gate-model.json'),
      })
      .prefault({}),
    agents: AgentsConfigSchema,
    /** Recent events detect keeps for context queries and rule backtests. */
    eventStore: EventStoreConfigSchema.prefault({}),
    notify: NotifyConfigSchema.prefault({}),
    coordinator: CoordinatorConfigSchema,
    /** How remediation proposals get their decision: the embedded Wasm bundle or an OPA server. */
    policy: PolicyConfig.prefault({}),
    /** The analyse agent's LLM provider; without one the offline analyst answers. */
    llm: LlmConfigSchema,
    /** The LLM analyst's tools (MCP), prompt and loop limits; used only with an LLM provider. */
    analyse: AnalyseConfigSchema,
    /** Where agents read their AgentPrompts: a folder (default deploy/prompts) or the cluster. */
    prompts: PromptsConfigSchema,
    /** Rule proposals: when to ask for one and where approved rules are delivered. */
    rules: RulesConfigSchema,
    /** The MCP tool server (`falconer mcp`): listen address, tokens and their scopes, peers. */
    mcp: McpConfigSchema,
  })
  .strict();

export type FalconerConfig = z.infer<typeof ConfigSchema>;
