/**
 * The `rules` config block: where approved rule proposals are delivered.
 *
 * Wire into src/config/schema.ts as `rules: RulesConfigSchema,` (it has a
 * prefault, so an absent block is valid) and resolve paths with
 * `resolveRulesDelivery(config.rules, config.dataDir)`.
 */
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import type { ApprovalGateDeps } from './approval.ts';
import { RULES_FILE_NAME } from './configmap.ts';
import { GitOpsRepository } from './git.ts';

export const RulesConfigSchema = z
  .object({
    /** Ask detect for a rule when an incident's analysis is a true positive. */
    proposeOnTruePositive: z.boolean().default(true),
    /**
     * Share of a core detect's rule proposals may use on average (each backtest is 1–2 s of CPU):
     * they wait for a human anyway, while the gate and the incident pipeline must not wait for them.
     */
    proposalCpuShare: z.number().gt(0).max(1).default(0.25),
    /** A GitOps working copy: approved rules are committed there on a branch `falconer/rule-<incident>`. */
    gitops: z
      .object({
        /** Path of the working copy (a clone of the GitOps repository). */
        repo: z.string().min(1),
        /** Base branch the proposal branches are cut from; null = the branch checked out. */
        branch: z.string().min(1).nullable().default(null),
        /** The rules file inside the repository. */
        path: z.string().min(1).default(RULES_FILE_NAME),
        author: z
          .object({
            name: z.string().min(1).max(200).default('Falconer'),
            email: z.string().min(3).max(200).default('falconer@localhost'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .optional(),
    /** The ConfigMap of all approved rules, for the Falco Helm chart's custom rules. */
    configMap: z
      .object({
        name: z.string().min(1).max(253).default('falconer-rules'),
        namespace: z.string().min(1).max(63).default('falco'),
        /** Where the manifest is written; relative paths are under dataDir. */
        file: z.string().min(1).default('rules/falconer-rules-configmap.yaml'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type RulesConfig = z.infer<typeof RulesConfigSchema>;

/** The approval gate's delivery targets from the config block. */
export function resolveRulesDelivery(
  cfg: RulesConfig,
  dataDir: string,
): Pick<ApprovalGateDeps, 'git' | 'configMap'> {
  const under = (p: string): string => (isAbsolute(p) ? p : join(dataDir, p));
  return {
    ...(cfg.gitops !== undefined
      ? {
          git: new GitOpsRepository({
            repoDir: under(cfg.gitops.repo),
            rulesPath: cfg.gitops.path,
            ...(cfg.gitops.branch !== null ? { baseBranch: cfg.gitops.branch } : {}),
            author: cfg.gitops.author,
          }),
        }
      : {}),
    configMap: {
      file: under(cfg.configMap.file),
      name: cfg.configMap.name,
      namespace: cfg.configMap.namespace,
    },
  };
}
