/**
 * The analyse agent's links to the AgentPrompt loader (src/prompts) and the
 * MCP client (src/mcp/client.ts), with the analyse config's options.
 */
import { readFile } from 'node:fs/promises';
import type { Registry } from 'prom-client';
import { FalconerError } from '../../../errors.ts';
import { connectMcpGateway } from '../../../mcp/client.ts';
import type { ToolSpec } from '../../../llm/types.ts';
import type { ToolCallResult, ToolGateway } from '../../../mcp/gateway.ts';
import { openPromptSource } from '../../../prompts/open.ts';
import type { PromptsConfig } from '../../../prompts/config.ts';
import type { PromptSource } from '../../../prompts/types.ts';
import type { Logger } from '../../../telemetry/logger.ts';
import type { AnalyseMcpConfig } from '../config.ts';

/**
 * The prompt source: `analyse.prompts.dir` when set, else the global `prompts` block
 * (folder or in-cluster AgentPrompts), hot-reloaded by the loader.
 */
export async function openAnalysePrompts(
  dir: string | undefined,
  global: PromptsConfig | undefined,
  deps: { logger?: Logger; metrics?: Registry } = {},
): Promise<PromptSource> {
  const config: PromptsConfig | undefined = dir !== undefined ? { dir } : global;
  return openPromptSource({
    ...(config !== undefined ? { config } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}

/** The bearer token of the MCP server, from a file or an env var. */
export async function mcpToken(cfg: AnalyseMcpConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let token: string | undefined;
  if (cfg.tokenFile !== undefined) {
    try {
      token = (await readFile(cfg.tokenFile, 'utf8')).trim();
    } catch (err) {
      throw new FalconerError(
        'CONFIG_INVALID',
        `analyse.mcp.tokenFile ${cfg.tokenFile} cannot be read: ${(err as Error).message}`,
        {
          file: cfg.tokenFile,
        },
      );
    }
  } else if (cfg.tokenEnv !== undefined) token = env[cfg.tokenEnv]?.trim();
  if (!token)
    throw new FalconerError(
      'CONFIG_INVALID',
      'analyse.mcp needs a token: set tokenFile or tokenEnv to a non-empty value',
      {
        tokenEnv: cfg.tokenEnv,
        tokenFile: cfg.tokenFile,
      },
    );
  return token;
}

/**
 * A ToolGateway that connects on first use and reconnects after a transport failure,
 * so the analyse agent starts (and keeps analysing, single-shot) while the MCP server
 * is not up yet or restarts.
 */
export class ReconnectingGateway implements ToolGateway {
  readonly #connect: () => Promise<ToolGateway>;
  #current: Promise<ToolGateway> | undefined;

  constructor(connect: () => Promise<ToolGateway>) {
    this.#connect = connect;
  }

  #get(): Promise<ToolGateway> {
    if (this.#current === undefined) {
      const attempt = this.#connect();
      this.#current = attempt;
      attempt.catch(() => {
        if (this.#current === attempt) this.#current = undefined;
      });
    }
    return this.#current;
  }

  async #use<T>(fn: (g: ToolGateway) => Promise<T>): Promise<T> {
    const pending = this.#get();
    const g = await pending;
    try {
      return await fn(g);
    } catch (err) {
      // A broken connection is replaced on the next use; the caller still sees this failure.
      if (this.#current === pending) this.#current = undefined;
      await g.close().catch(() => {});
      throw err;
    }
  }

  list(signal?: AbortSignal): Promise<ToolSpec[]> {
    return this.#use((g) => g.list(signal));
  }

  call(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolCallResult> {
    return this.#use((g) => g.call(name, args, signal));
  }

  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    const g = await current?.catch(() => undefined);
    await g?.close();
  }
}

/** The MCP tools, or undefined when no MCP server is configured. The token is read now; the connection is made on first use. */
export async function connectAnalyseTools(
  cfg: AnalyseMcpConfig | undefined,
  logger?: Logger,
  env?: NodeJS.ProcessEnv,
): Promise<ToolGateway | undefined> {
  if (cfg === undefined) return undefined;
  const token = await mcpToken(cfg, env);
  return new ReconnectingGateway(async () => {
    const gateway = await connectMcpGateway({ url: cfg.url, token, clientName: 'falconer-analyse' });
    logger?.info({ url: cfg.url }, 'MCP tools connected');
    return gateway;
  });
}
