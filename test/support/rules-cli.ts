/** Runs `falconer rules …` with only the rules commands registered (until the CLI registry includes them). */
import { Command } from 'commander';
import { registerRulesCommands } from '../../src/cli/commands/rules.ts';

const program = new Command('falconer');
registerRulesCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`falconer: ${String(err)}\n`);
  process.exitCode = 1;
});
