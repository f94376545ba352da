/**
 * What an LLM tool loop needs from a tool server, independent of transport:
 * the MCP client (src/mcp/client.ts) implements it against `falconer mcp`.
 * Tool names are the MCP names (`events.search`); a caller that talks to an
 * LLM maps them to function names the provider accepts.
 */
import type { ToolSpec } from '../llm/types.ts';

export interface ToolCallResult {
  /** True when the tool refused or failed (bad arguments, out of scope, backend down). */
  readonly isError: boolean;
  /** The tool's text content (JSON for Falconer's tools). Untrusted: it carries event data. */
  readonly text: string;
}

export interface ToolGateway {
  list(signal?: AbortSignal): Promise<ToolSpec[]>;
  call(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolCallResult>;
  close(): Promise<void>;
}
