/** Error codes of the MCP tool server (docs/mcp.md lists them; tool errors carry them in their text). */
import '../errors.ts';

declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** Data outside the token's namespaces, or a tool outside its tools. */
    MCP_OUT_OF_SCOPE: true;
    /** fromMs..toMs longer than the configured cap. */
    MCP_RANGE_TOO_LONG: true;
    MCP_INVALID_ARGUMENTS: true;
    MCP_UNKNOWN_TOOL: true;
    /** No such incident in this token's scope (out-of-scope incidents look the same: nothing leaks). */
    MCP_NOT_FOUND: true;
    /** The agent (or in-process store) behind a tool cannot answer. */
    MCP_BACKEND_UNAVAILABLE: true;
    MCP_INTERNAL: true;
    MCP_UNAUTHORIZED: true;
    /** The MCP client could not connect or got something that is not MCP. */
    MCP_CLIENT: true;
  }
}

/** Codes a tool error may carry (the rest are transport-level). */
export const TOOL_ERROR_CODES = [
  'MCP_OUT_OF_SCOPE',
  'MCP_RANGE_TOO_LONG',
  'MCP_INVALID_ARGUMENTS',
  'MCP_UNKNOWN_TOOL',
  'MCP_NOT_FOUND',
  'MCP_BACKEND_UNAVAILABLE',
  'MCP_INTERNAL',
] as const;
export type ToolErrorCode = (typeof TOOL_ERROR_CODES)[number];
