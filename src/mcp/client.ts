/**
 * The MCP client side of the LLM tool loop: `connectMcpGateway` connects the
 * official SDK Client to `falconer mcp` over Streamable HTTP (bearer token)
 * and offers it as a ToolGateway (src/mcp/gateway.ts); `connectMcpStdioGateway`
 * does the same with a server it spawns. Tools map to ToolSpec (name,
 * description, JSON Schema parameters); a call's text is what the model sees.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { describeError, FalconerError } from '../errors.ts';
import type { ToolSpec } from '../llm/types.ts';
import type { ToolCallResult, ToolGateway } from './gateway.ts';
import './errors.ts';

export interface McpGatewayOptions {
  /** http://host:7700/mcp */
  readonly url: string;
  readonly token: string;
  /** Per request (list or call); default 30 s. */
  readonly timeoutMs?: number;
  /** Client name reported to the server. */
  readonly clientName?: string;
}

export interface McpStdioGatewayOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
  readonly clientName?: string;
}

/** A tool as an LLM provider wants it. */
export function toolSpecOf(tool: Tool): ToolSpec {
  return {
    name: tool.name,
    description: tool.description ?? tool.title ?? tool.name,
    parameters: tool.inputSchema as Record<string, unknown>,
  };
}

/** The text the model sees: the text parts joined (our tools send one JSON text part). */
export function callResultOf(result: CallToolResult): ToolCallResult {
  const text = result.content
    .filter((c): c is { type: 'text'; text: string } => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
  return {
    isError: result.isError === true,
    text:
      text !== '' || result.structuredContent === undefined ? text : JSON.stringify(result.structuredContent),
  };
}

async function gatewayOver(
  transport: Transport,
  where: string,
  timeoutMs: number,
  clientName: string,
): Promise<ToolGateway> {
  const client = new Client({ name: clientName, version: '0.1.0' });
  try {
    await client.connect(transport, { timeout: timeoutMs });
  } catch (err) {
    await client.close().catch(() => {});
    throw new FalconerError(
      'MCP_CLIENT',
      `cannot connect to the MCP server at ${where}: ${describeError(err)}`,
      {
        where,
      },
    );
  }
  const fail = (what: string, err: unknown): FalconerError =>
    new FalconerError('MCP_CLIENT', `${what} failed at ${where}: ${describeError(err)}`, { where });
  return {
    async list(signal) {
      const tools: ToolSpec[] = [];
      let cursor: string | undefined;
      try {
        do {
          const page = await client.listTools(cursor !== undefined ? { cursor } : {}, {
            timeout: timeoutMs,
            ...(signal ? { signal } : {}),
          });
          tools.push(...page.tools.map(toolSpecOf));
          cursor = page.nextCursor;
        } while (cursor !== undefined && tools.length < 1000);
      } catch (err) {
        throw fail('listing tools', err);
      }
      return tools;
    },
    async call(name, args, signal) {
      let result: CallToolResult;
      try {
        result = (await client.callTool({ name, arguments: args }, undefined, {
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
        })) as CallToolResult;
      } catch (err) {
        throw fail(`calling ${name.slice(0, 100)}`, err);
      }
      return callResultOf(result);
    },
    close: () => client.close(),
  };
}

export async function connectMcpGateway(opts: McpGatewayOptions): Promise<ToolGateway> {
  const transport = new StreamableHTTPClientTransport(new URL(opts.url), {
    requestInit: { headers: { authorization: `Bearer ${opts.token}` } },
  });
  return gatewayOver(transport, opts.url, opts.timeoutMs ?? 30_000, opts.clientName ?? 'falconer-analyse');
}

export async function connectMcpStdioGateway(opts: McpStdioGatewayOptions): Promise<ToolGateway> {
  const transport = new StdioClientTransport({
    command: opts.command,
    args: [...(opts.args ?? [])],
    ...(opts.env ? { env: { ...opts.env } } : {}),
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stderr: 'pipe',
  });
  // The server logs to stderr: drain it so a chatty server never blocks on a full pipe.
  transport.stderr?.on('data', () => {});
  return gatewayOver(
    transport,
    opts.command,
    opts.timeoutMs ?? 30_000,
    opts.clientName ?? 'falconer-analyse',
  );
}
