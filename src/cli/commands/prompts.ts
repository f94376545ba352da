/**
 * `falconer prompts check [paths...]`: validates AgentPrompt YAML files the
 * way the agents load them (default: the shipped deploy/prompts) and prints
 * one line per prompt, or its problems with file:line; exit 1 when any is refused.
 */
import type { Command } from 'commander';
import { checkPromptFiles } from '../../prompts/check.ts';
import { DEFAULT_PROMPTS_DIR } from '../../prompts/config.ts';

export function registerPromptsCommands(
  program: Command,
  write: (text: string) => void = (t) => void process.stdout.write(t),
): void {
  const prompts = program
    .command('prompts')
    .description('AgentPrompt resources (prompts as Kubernetes custom resources)');
  prompts
    .command('check')
    .description('Validate AgentPrompt YAML files or folders as the agents would load them')
    .argument('[paths...]', 'files or folders', [DEFAULT_PROMPTS_DIR])
    .option('--json', 'one JSON object per resource')
    .action((paths: string[], opts: { json?: boolean }) => {
      const statuses = checkPromptFiles(paths);
      for (const s of statuses) {
        if (opts.json) {
          const { prompt, ...rest } = s;
          const summary = prompt && {
            agent: prompt.agent,
            name: prompt.name,
            version: prompt.version,
            hash: prompt.hash,
          };
          write(`${JSON.stringify({ ...rest, ...(summary ? { prompt: summary } : {}) })}\n`);
        } else if (s.accepted && s.prompt) {
          const p = s.prompt;
          write(`ok      ${p.agent}/${p.name} ${p.version} ${p.hash.slice(0, 12)} ${s.origin}\n`);
        } else {
          write(`refused ${s.reason}\n${s.message.replace(/^/gm, '  ')}\n`);
        }
      }
      if (statuses.length === 0) write('no AgentPrompt found\n');
      if (statuses.length === 0 || statuses.some((s) => !s.accepted)) process.exitCode = 1;
    });
}
