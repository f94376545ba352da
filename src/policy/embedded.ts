/** The embedded evaluator: the policy compiled to Wasm by opa, run with @open-policy-agent/opa-wasm. */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyDecision } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import { DEFAULT_BUNDLE_PATH, POLICY_ENTRYPOINT, assertFresh, readBundle } from './bundle.ts';
import type { PolicyEvaluator } from './evaluator.ts';
import { checkedInput, toDecision } from './evaluator.ts';
import type { PolicyInput } from './input.ts';

export interface EmbeddedOptions {
  bundlePath?: string;
  /** When set, loading fails with POLICY_BUNDLE_STALE if the bundle was not built from these sources. */
  sourceDir?: string;
}

type Loaded = Awaited<ReturnType<typeof loadPolicy>>;

export class EmbeddedEvaluator implements PolicyEvaluator {
  readonly name = 'embedded';
  private constructor(
    private readonly policy: Loaded,
    readonly revision: string,
  ) {}

  static async load(options: EmbeddedOptions = {}): Promise<EmbeddedEvaluator> {
    const bundle = readBundle(options.bundlePath ?? DEFAULT_BUNDLE_PATH);
    if (options.sourceDir !== undefined) assertFresh(bundle, options.sourceDir);
    if (!bundle.entrypoints.includes(POLICY_ENTRYPOINT)) {
      throw new FalconerError(
        'POLICY_BUNDLE_INVALID',
        `the policy bundle has no entrypoint ${POLICY_ENTRYPOINT}`,
        {
          entrypoints: bundle.entrypoints,
        },
      );
    }
    let policy: Loaded;
    try {
      policy = await loadPolicy(bundle.wasm);
      policy.setData(bundle.data);
    } catch (err) {
      throw new FalconerError(
        'POLICY_BUNDLE_INVALID',
        `cannot load the policy Wasm: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    return new EmbeddedEvaluator(policy, bundle.revision);
  }

  async evaluate(input: PolicyInput): Promise<PolicyDecision> {
    const checked = checkedInput(input);
    let resultSet: unknown;
    try {
      resultSet = this.policy.evaluate(checked, POLICY_ENTRYPOINT);
    } catch (err) {
      throw new FalconerError(
        'POLICY_RESULT_INVALID',
        `Wasm policy evaluation failed: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    }
    const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
    return toDecision(first?.result, checked, this.revision, 'the embedded policy');
  }

  async close(): Promise<void> {}
}
