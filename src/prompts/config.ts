/**
 * The `prompts` config block: where agents read their AgentPrompts from.
 * `kubernetes` set → watched in-cluster; otherwise the folder `dir`
 * (default: deploy/prompts of the installed package, for `falconer up`).
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** deploy/prompts relative to the package root (src/prompts/ → ../../deploy/prompts). */
export const DEFAULT_PROMPTS_DIR = fileURLToPath(new URL('../../deploy/prompts/', import.meta.url));

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const PromptsConfigSchema = z
  .object({
    /** Folder of AgentPrompt YAML files (multi-document allowed); watched and hot-reloaded. */
    dir: z.string().min(1).optional(),
    /** Watch the AgentPrompts of this namespace instead of a folder (in-cluster or through the kubeconfig). */
    kubernetes: z
      .object({
        namespace: z.string().regex(DNS_LABEL, 'a Kubernetes namespace name (DNS label)'),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => !(c.dir !== undefined && c.kubernetes !== undefined), {
    message: 'set prompts.dir or prompts.kubernetes, not both',
  })
  .prefault({});

export type PromptsConfig = z.infer<typeof PromptsConfigSchema>;
