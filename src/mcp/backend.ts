/**
 * Where the tools get their data. Two implementations of one interface:
 * over A2A mTLS from the detect and coordinator agents (what `falconer mcp`
 * runs as its own workload), or in process from an EventStore and the
 * coordinator's database (tests, and `falconer mcp --stdio --events …`).
 */
import type { Registry } from 'prom-client';
import type { A2aClient } from '../a2a/client.ts';
import type { TlsFiles } from '../a2a/tls-files.ts';
import {
  EventsBaselineOutput,
  EventsSearchOutput,
  IncidentGetOutput,
  RulesBacktestOutput,
  type EventsBaselineInput,
  type EventsSearchInput,
  type IncidentDetail,
  type RulesBacktestSkillInput,
} from '../agents/contracts.ts';
import type { Db } from '../agents/coordinator/incident-repo.ts';
import { FalconerError, isFalconerError } from '../errors.ts';
import type { RulesSource } from '../rules/loader.ts';
import type { EventStore } from '../store/event-store.ts';
import type { Logger } from '../telemetry/logger.ts';
import { backtestOnStore } from './queries/backtest.ts';
import { eventsBaseline } from './queries/baseline.ts';
import { readIncidentDetail } from './queries/incident.ts';
import { searchEvents } from './queries/search.ts';
import './errors.ts';

export interface McpBackend {
  searchEvents(input: EventsSearchInput): Promise<EventsSearchOutput>;
  baseline(input: EventsBaselineInput): Promise<EventsBaselineOutput>;
  backtest(input: RulesBacktestSkillInput): Promise<RulesBacktestOutput>;
  /** null when there is no such incident. */
  incident(id: string): Promise<IncidentDetail | null>;
  close(): Promise<void>;
}

function unavailable(what: string): FalconerError {
  return new FalconerError('MCP_BACKEND_UNAVAILABLE', `${what} is not available to this MCP server`, {});
}

/** In process: the event store and/or the coordinator's database, read directly. */
export function createLocalBackend(opts: {
  events?: EventStore;
  incidents?: Db;
  baseRules?: readonly RulesSource[];
  close?: () => Promise<void>;
}): McpBackend {
  const store = (): EventStore => opts.events ?? throwIt(unavailable('the event store'));
  return {
    searchEvents: async (input) => searchEvents(store(), input),
    baseline: async (input) => eventsBaseline(store(), input),
    backtest: async (input) => backtestOnStore(store(), input, opts.baseRules ?? []),
    incident: async (id) => {
      if (opts.incidents === undefined) throw unavailable('the incident database');
      return readIncidentDetail(opts.incidents, id);
    },
    close: async () => {
      await opts.close?.();
    },
  };
}

function throwIt(err: Error): never {
  throw err;
}

export interface A2aBackendOptions {
  readonly tls: TlsFiles;
  readonly trustDomain: string;
  readonly namespace: string;
  readonly detectUrl: string;
  readonly coordinatorUrl: string;
  readonly timeoutMs: number;
  readonly logger?: Logger;
  readonly registry?: Registry;
}

/** Over A2A mTLS as identity `mcp`: detect's events.* and rules.backtest, the coordinator's incident.get. */
export async function createA2aBackend(opts: A2aBackendOptions): Promise<McpBackend> {
  // Loaded here: the in-process (stdio) mode never pays for the A2A stack.
  const { createA2aClient } = await import('../a2a/client.ts');
  const client: A2aClient = await createA2aClient({
    tls: opts.tls,
    self: 'mcp',
    trustDomain: opts.trustDomain,
    namespace: opts.namespace,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.registry ? { registry: opts.registry } : {}),
    // A tool call has a person or an LLM waiting: fewer, shorter retries than agent-to-agent work.
    retry: { attempts: 2, baseDelayMs: 100, maxDelayMs: 500 },
  });
  const call = async <O>(
    agent: 'detect' | 'coordinator',
    skill: string,
    input: unknown,
    output: import('zod').ZodType<O>,
  ): Promise<O> => {
    try {
      return await client.call({
        url: agent === 'detect' ? opts.detectUrl : opts.coordinatorUrl,
        agent,
        skill,
        input,
        output,
        timeoutMs: opts.timeoutMs,
      });
    } catch (err) {
      // The agent's own words may quote event data; the caller gets the code and which agent.
      const code = isFalconerError(err) ? err.code : 'error';
      opts.logger?.warn({ agent, skill, code }, 'MCP backend call failed');
      throw new FalconerError(
        'MCP_BACKEND_UNAVAILABLE',
        `the ${agent} agent did not answer ${skill} (${code})`,
        {
          agent,
          skill,
          code,
        },
      );
    }
  };
  return {
    searchEvents: (input) => call('detect', 'events.search', input, EventsSearchOutput),
    baseline: (input) => call('detect', 'events.baseline', input, EventsBaselineOutput),
    backtest: (input) => call('detect', 'rules.backtest', input, RulesBacktestOutput),
    incident: async (id) => (await call('coordinator', 'incident.get', { id }, IncidentGetOutput)).incident,
    close: () => client.close(),
  };
}
