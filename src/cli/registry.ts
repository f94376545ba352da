import type { Command } from 'commander';
import { registerAgentCommand } from './commands/agent.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerConfigCommands } from './commands/config.ts';
import { registerGateCommands } from './commands/gate.ts';
import { registerMcpCommands } from './commands/mcp.ts';
import { registerPromptsCommands } from './commands/prompts.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerPolicyCommands } from './commands/policy.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerScenarioCommands } from './commands/scenario.ts';
import { registerUpCommand } from './commands/up.ts';

/** Each command module adds its subcommands to the program; one entry per feature. */
export type CommandRegistrar = (program: Command) => void;

export const COMMANDS: CommandRegistrar[] = [
  registerAgentCommand,
  registerAuditCommands,
  registerConfigCommands,
  registerGateCommands,
  registerMcpCommands,
  registerPolicyCommands,
  registerPromptsCommands,
  registerReplayCommand,
  registerRulesCommands,
  registerScenarioCommands,
  registerUpCommand,
];
