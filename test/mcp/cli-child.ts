/**
 * `falconer mcp …` for tests until the command is in src/cli/registry.ts:
 * the same registrar the CLI uses, on a program of its own.
 */
import { Command } from 'commander';
import { registerMcpCommands } from '../../src/cli/commands/mcp.ts';
import { describeError } from '../../src/errors.ts';

const program = new Command('falconer');
registerMcpCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`falconer: error ${describeError(err)}\n`);
  process.exitCode = 1;
}
