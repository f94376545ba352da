/** The policy evaluators by name: `embedded` (Wasm) and `opa-server` (sidecar). */
import { FalconerError } from '../errors.ts';
import './errors.ts';
import type { PolicyConfig } from './config.ts';
import { EmbeddedEvaluator } from './embedded.ts';
import type { PolicyEvaluator } from './evaluator.ts';
import { OpaServerEvaluator } from './opa-server.ts';

type Factory = (config: PolicyConfig) => Promise<PolicyEvaluator>;

const EVALUATORS: ReadonlyMap<string, Factory> = new Map<string, Factory>([
  [
    'embedded',
    (c) => {
      const opts: { bundlePath?: string; sourceDir?: string } = {};
      if (c.bundlePath !== undefined) opts.bundlePath = c.bundlePath;
      if (c.sourceDir !== undefined) opts.sourceDir = c.sourceDir;
      return EmbeddedEvaluator.load(opts);
    },
  ],
  [
    'opa-server',
    async (c) => {
      if (c.opaUrl === undefined) {
        throw new FalconerError(
          'CONFIG_INVALID',
          'policy.evaluator is opa-server but policy.opaUrl is not set',
        );
      }
      return new OpaServerEvaluator({ url: c.opaUrl, timeoutMs: c.timeoutMs });
    },
  ],
]);

export function policyEvaluatorNames(): string[] {
  return [...EVALUATORS.keys()];
}

export async function createPolicyEvaluator(config: PolicyConfig): Promise<PolicyEvaluator> {
  const factory = EVALUATORS.get(config.evaluator);
  if (factory === undefined) {
    throw new FalconerError(
      'POLICY_EVALUATOR_UNKNOWN',
      `unknown policy evaluator '${String(config.evaluator)}'`,
      {
        known: policyEvaluatorNames(),
      },
    );
  }
  return factory(config);
}
