/** Prometheus metrics of the MCP tool server. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface McpMetrics {
  readonly calls: Counter<'tool' | 'outcome'>;
  readonly duration: Histogram<'tool' | 'outcome'>;
  readonly authFailures: Counter<'reason'>;
}

export function createMcpMetrics(registry: Registry): McpMetrics {
  return {
    calls: new Counter({
      name: 'falconer_mcp_tool_calls_total',
      help: 'MCP tool calls by tool and outcome (ok or the error code)',
      labelNames: ['tool', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'falconer_mcp_tool_duration_seconds',
      help: 'MCP tool call duration by tool and outcome',
      labelNames: ['tool', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'falconer_mcp_auth_failures_total',
      help: 'HTTP requests to the MCP endpoint refused for a missing or wrong bearer token',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
