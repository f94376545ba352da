/**
 * `falconer policy eval <input.json>`: evaluates one policy input (see
 * docs/policy-input.md) with the embedded or the OPA-server evaluator and
 * prints the decision; `falconer policy bundle-check`: exit 1 when the
 * committed Wasm bundle is stale relative to the Rego sources.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FalconerError } from '../../errors.ts';
import {
  DEFAULT_BUNDLE_PATH,
  DEFAULT_POLICY_SOURCE_DIR,
  assertFresh,
  readBundle,
} from '../../policy/bundle.ts';
import { PolicyConfig } from '../../policy/config.ts';
import { checkedInput } from '../../policy/evaluator.ts';

interface EvalOptions {
  evaluator: string;
  opaUrl?: string;
  bundle?: string;
  timeout: string;
}

/** `write` is where results go (stdout by default; tests capture it). */
export function registerPolicyCommands(
  program: Command,
  write: (text: string) => void = (t) => void process.stdout.write(t),
): void {
  const policy = program.command('policy').description('Evaluate and check the remediation policy (OPA)');
  policy
    .command('eval')
    .description('Evaluate one policy input (JSON file, or - for stdin) and print the decision')
    .argument('<input>', 'policy input JSON (docs/policy-input.md)')
    .option('--evaluator <name>', 'embedded or opa-server', 'embedded')
    .option('--opa-url <url>', 'OPA server URL (with --evaluator opa-server)')
    .option('--bundle <file>', 'Wasm bundle (embedded)', DEFAULT_BUNDLE_PATH)
    .option('--timeout <ms>', 'OPA server timeout in ms', '2000')
    .action(async (file: string, opts: EvalOptions) => {
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8'));
      } catch (err) {
        throw new FalconerError(
          'USAGE',
          `cannot read a JSON policy input from ${file}: ${(err as Error).message}`,
          { file },
        );
      }
      const parsed = PolicyConfig.safeParse({
        evaluator: opts.evaluator,
        opaUrl: opts.opaUrl,
        bundlePath: opts.bundle,
        timeoutMs: Number(opts.timeout),
      });
      if (!parsed.success)
        throw new FalconerError(
          'USAGE',
          `invalid options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      // Loaded here, not at the top: every `falconer` start (each agent) registers these commands.
      const { createPolicyEvaluator } = await import('../../policy/registry.ts');
      const evaluator = await createPolicyEvaluator(parsed.data);
      try {
        const decision = await evaluator.evaluate(checkedInput(raw));
        write(`${JSON.stringify(decision, null, 2)}\n`);
      } finally {
        await evaluator.close();
      }
    });
  policy
    .command('bundle-check')
    .description('Fail when the Wasm bundle was not built from the current Rego sources')
    .option('--bundle <file>', 'the bundle', DEFAULT_BUNDLE_PATH)
    .option('--sources <dir>', 'the Rego sources', DEFAULT_POLICY_SOURCE_DIR)
    .action((opts: { bundle: string; sources: string }) => {
      const bundle = readBundle(opts.bundle);
      assertFresh(bundle, opts.sources);
      write(`policy bundle up to date (${bundle.revision})\n`);
    });
}
