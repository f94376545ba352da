/** The `policy` config block (wire into src/config/schema.ts as `policy: PolicyConfig`). */
import { z } from 'zod';

export const PolicyConfig = z.strictObject({
  evaluator: z.enum(['embedded', 'opa-server']).default('embedded'),
  /** Embedded: the Wasm bundle (default policies/bundle.tar.gz in the repository). */
  bundlePath: z.string().min(1).optional(),
  /** Embedded: refuse to start when the bundle is stale relative to these Rego sources. */
  sourceDir: z.string().min(1).optional(),
  /** Sidecar: the OPA server, e.g. http://127.0.0.1:8181. */
  opaUrl: z.url().optional(),
  timeoutMs: z.number().int().min(10).max(60_000).default(2000),
  /** Falconer's own namespace: always protected. */
  falconerNamespace: z.string().min(1).max(63).default('falconer'),
});
export type PolicyConfig = z.infer<typeof PolicyConfig>;
