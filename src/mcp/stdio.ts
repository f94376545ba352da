/**
 * The stdio transport: one MCP session on this process's stdin/stdout (the
 * client spawned us). Per the MCP spec a stdio server takes its credentials
 * from the environment, not a token: the scope is the configured
 * `stdioScope`, and logs go to stderr (stdout is the protocol).
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpScope } from './scope.ts';
import { createScopedMcpServer, type McpServerDeps } from './server.ts';

/** Serves until stdin closes (the client went away); resolves then. */
export async function serveMcpStdio(scope: McpScope, deps: McpServerDeps): Promise<void> {
  const server = createScopedMcpServer(scope, deps);
  const transport = new StdioServerTransport();
  await server.connect(transport);
  // After connect: the SDK owns the transport's callbacks and calls the server's onclose.
  await new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.stdin.once('close', () => resolve());
  });
  await server.close().catch(() => {});
}
