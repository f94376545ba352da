import { stringify } from 'yaml';
import { loadConfig } from '../../config/load.ts';
import type { CommandRegistrar } from '../registry.ts';

export const registerConfigCommands: CommandRegistrar = (program) => {
  const config = program.command('config').description('Inspect the effective configuration');
  config
    .command('print')
    .description('Print the effective configuration (file, then FALCONER_* env, then defaults)')
    .option('-c, --config <file>', 'config file (YAML or JSON)', process.env.FALCONER_CONFIG)
    .option('--json', 'print JSON instead of YAML')
    .action((opts: { config?: string; json?: boolean }) => {
      const effective = loadConfig({ file: opts.config });
      process.stdout.write(opts.json ? `${JSON.stringify(effective, null, 2)}\n` : stringify(effective));
    });
};
