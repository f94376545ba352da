/**
 * `falconer agent <name>`: runs one agent in this process (one Deployment in
 * Kubernetes; one child process under `falconer up`). The agent's code is
 * loaded only here, so other commands start fast.
 */
import { AGENT_NAMES, AgentName } from '../../agents/contracts.ts';
import { loadConfig, parseSetOverrides } from '../../config/load.ts';
import { FalconerError } from '../../errors.ts';
import type { CommandRegistrar } from '../registry.ts';

interface AgentOptions {
  config?: string;
  dataDir?: string;
  set: string[];
}

export const registerAgentCommand: CommandRegistrar = (program) => {
  program
    .command('agent')
    .description(`Run one agent (${AGENT_NAMES.join(', ')}) in this process`)
    .argument('<name>', 'the agent to run')
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--data-dir <dir>', 'state directory (default from config: .falconer)')
    .option(
      '--set <path=value>',
      'override one config value (repeatable), e.g. --set analyse.mcp.url=http://127.0.0.1:7700/mcp',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .action(async (rawName: string, opts: AgentOptions) => {
      const parsed = AgentName.safeParse(rawName);
      if (!parsed.success) {
        throw new FalconerError('USAGE', `unknown agent "${rawName}" (agents: ${AGENT_NAMES.join(', ')})`, {
          agent: rawName,
        });
      }
      const config = loadConfig({
        file: opts.config,
        overrides: { ...parseSetOverrides(opts.set), dataDir: opts.dataDir },
      });
      const [{ AGENT_FACTORIES }, { runAgentUntilSignalled }] = await Promise.all([
        import('../../agents/registry.ts'),
        import('../../agents/runtime.ts'),
      ]);
      await runAgentUntilSignalled(parsed.data, config, await AGENT_FACTORIES[parsed.data]());
    });
};
