import { Command, CommanderError } from 'commander';
import { describeError, isFalconerError } from '../errors.ts';
import { COMMANDS } from './registry.ts';

export function buildProgram(): Command {
  const program = new Command('falconer')
    .description('Real-time multi-agent security operations for Kubernetes')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isFalconerError(err)) {
      const ctx = Object.keys(err.context).length ? ` ${JSON.stringify(err.context)}` : '';
      process.stderr.write(`falconer: error [${err.code}] ${err.message}${ctx}\n`);
      process.exitCode = err.code === 'USAGE' ? 2 : 1;
      return;
    }
    process.stderr.write(`falconer: unexpected error: ${describeError(err)}\n`);
    process.exitCode = 1;
  }
}
