/**
 * `falconer agent <name>`: runs one agent in this process (one Deployment in
 * Kubernetes; one child process under `falconer up`).
 */
import { AGENT_NAMES, AgentName } from '../../agents/contracts.ts';
import { AGENT_FACTORIES } from '../../agents/registry.ts';
import { runAgentUntilSignalled } from '../../agents/runtime.ts';
import { loadConfig } from '../../config/load.ts';
import { FalconerError } from '../../errors.ts';
import type { CommandRegistrar } from '../registry.ts';

interface AgentOptions {
  config?: string;
  dataDir?: string;
}

export const registerAgentCommand: CommandRegistrar = (program) => {
  program
    .command('agent')
    .description(`Run one agent (${AGENT_NAMES.join(', ')}) in this process`)
    .argument('<name>', 'the agent to run')
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--data-dir <dir>', 'state directory (default from config: .falconer)')
    .action(async (rawName: string, opts: AgentOptions) => {
      const parsed = AgentName.safeParse(rawName);
      const factory = parsed.success ? AGENT_FACTORIES[parsed.data] : undefined;
      if (!parsed.success || factory === undefined) {
        throw new FalconerError('USAGE', `unknown agent "${rawName}" (agents: ${AGENT_NAMES.join(', ')})`, {
          agent: rawName,
        });
      }
      const config = loadConfig({ file: opts.config, overrides: { dataDir: opts.dataDir } });
      await runAgentUntilSignalled(parsed.data, config, factory);
    });
};
