/**
 * `falconer mcp`: the MCP tool server (docs/mcp.md).
 *   falconer mcp [--listen 127.0.0.1:7700] [--token-file F]   Streamable HTTP at /mcp, bearer token
 *   falconer mcp --stdio                                       one session on stdin/stdout
 * Data from the detect and coordinator agents over A2A mTLS (identity mcp),
 * or in process with --events SNAPSHOT.ndjson[.gz] and/or --incidents-db URL.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.ts';
import { describeError } from '../../errors.ts';
import type { FalconerConfig } from '../../config/schema.ts';
import type { McpConfig } from '../../mcp/config.ts';
import { runUntilStopped } from '../../supervisor/stop-signal.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { integer } from '../options.ts';

interface McpOptions {
  config?: string;
  dataDir?: string;
  listen?: string;
  stdio?: boolean;
  tokenFile?: string;
  opsPort?: number;
  events?: string;
  incidentsDb?: string;
}

/** The `mcp` block, then flags and the FALCONER_MCP_* variables they stand for. */
function mcpConfigOf(config: FalconerConfig, opts: McpOptions, env: NodeJS.ProcessEnv): McpConfig {
  const mcp = config.mcp;
  const tokenFile = opts.tokenFile ?? mcp.tokenFile ?? env.FALCONER_MCP_TOKEN_FILE ?? null;
  const stdioNamespaces = env.FALCONER_MCP_STDIO_NAMESPACES?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    ...mcp,
    tokenFile: mcp.token !== null ? null : tokenFile,
    ...(stdioNamespaces !== undefined && stdioNamespaces.length > 0
      ? { stdioScope: { ...mcp.stdioScope, namespaces: stdioNamespaces } }
      : {}),
  };
}

export function registerMcpCommands(program: Command): void {
  program
    .command('mcp')
    .description('Serve the read-only MCP tools (events, baselines, workload context, incidents, rules)')
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--data-dir <dir>', 'state directory (default from config: .falconer)')
    .option('--listen <host:port>', 'Streamable HTTP listen address (default from config: 127.0.0.1:7700)')
    .option('--stdio', 'serve one session on stdin/stdout instead of HTTP')
    .option('--token-file <file>', 'bearer token file for HTTP (scope: all namespaces)')
    .option(
      '--ops-port <port>',
      'plain-HTTP /metrics and /healthz port (default from config: 7701)',
      integer(0),
    )
    .option('--events <file>', 'in process: read events from this event store snapshot (NDJSON, .gz)')
    .option(
      '--incidents-db <url>',
      "in process: read incidents from the coordinator's database (sqlite:PATH, postgres://…)",
    )
    .action(async (opts: McpOptions) => {
      const config = loadConfig({ file: opts.config, overrides: { dataDir: opts.dataDir } });
      const mcp = mcpConfigOf(config, opts, process.env);
      const logger = createLogger({ level: config.log.level, name: 'falconer-mcp' }).child({ agent: 'mcp' });
      const local =
        opts.events !== undefined || opts.incidentsDb !== undefined
          ? {
              ...(opts.events !== undefined ? { eventsFile: opts.events } : {}),
              ...(opts.incidentsDb !== undefined ? { incidentsDb: opts.incidentsDb } : {}),
            }
          : undefined;
      const { runMcpStdio, startMcpHttp, parseListen } = await import('../../mcp/run.ts');
      const base = { config, mcp, logger, ...(local ? { local } : {}) };
      if (opts.stdio === true) {
        await runMcpStdio(base);
        logger.flush();
        return;
      }
      const listen =
        opts.listen !== undefined ? parseListen(opts.listen) : { host: mcp.host, port: mcp.port };
      const running = await startMcpHttp({ ...base, ...listen, opsPort: opts.opsPort ?? mcp.opsPort });
      process.stderr.write(`falconer mcp: listening on ${running.http.url}\n`);
      await runUntilStopped(running.stop, {
        onStopping: (reason) => logger.info({ reason }, 'stopping'),
      })
        .catch((err: unknown) => logger.error({ err: describeError(err) }, 'unclean stop'))
        .finally(() => logger.flush());
    });
}
