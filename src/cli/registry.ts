import type { Command } from 'commander';

/** Each command module adds its subcommands to the program; one entry per feature. */
export type CommandRegistrar = (program: Command) => void;

export const COMMANDS: CommandRegistrar[] = [];
