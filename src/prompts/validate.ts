/**
 * One AgentPrompt object (already parsed from YAML or received from the API
 * server) → a LoadedPrompt, or the list of its problems: field path, why, and
 * the line when the object came from a file. Pure: no I/O.
 */
import { canonicalJson, sha256Hex } from '../a2a/canonical.ts';
import { AgentPromptObjectSchema, PROMPT_LIMITS, type AgentPromptSpec } from './schema.ts';
import { findPlaceholders } from './placeholders.ts';
import type { LoadedPrompt } from './types.ts';

export type FieldPath = readonly (string | number)[];

export interface PromptProblem {
  /** Dotted field path, e.g. `spec.model.temperature` (empty for the whole object). */
  readonly path: string;
  readonly message: string;
  /** 1-based line in the file, when known. */
  readonly line?: number;
}

export type PromptValidation =
  | { readonly ok: true; readonly prompt: LoadedPrompt }
  | { readonly ok: false; readonly problems: readonly PromptProblem[] };

/** Label that selects prompts by agent; when present it must agree with spec.agent. */
export const AGENT_LABEL = 'falconer.dev/agent';

function dotted(path: FieldPath): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg),
    '',
  );
}

/** sha256 (hex) of the canonical JSON of the spec: what every LLM call records. */
export function promptHash(spec: AgentPromptSpec): string {
  return sha256Hex(canonicalJson(spec));
}

/** Checks openAPI cannot express: placeholders declared, format and schema agree, size. */
function specProblems(
  spec: AgentPromptSpec,
  labels: Record<string, string> | undefined,
): [FieldPath, string][] {
  const out: [FieldPath, string][] = [];
  const declared = new Set(spec.variables ?? []);
  const texts: [FieldPath, string][] = [
    [['spec', 'system'], spec.system],
    ...Object.entries(spec.templates ?? {}).map(([k, v]): [FieldPath, string] => [
      ['spec', 'templates', k],
      v,
    ]),
  ];
  for (const [path, text] of texts) {
    for (const use of findPlaceholders(text)) {
      if (use.spaced)
        out.push([path, `placeholder {{ ${use.name} }} has spaces inside the braces: write {{${use.name}}}`]);
      else if (!declared.has(use.name))
        out.push([path, `placeholder {{${use.name}}} is not declared in spec.variables`]);
    }
  }
  const format = spec.model?.responseFormat;
  if (format === 'json' && spec.outputSchema === undefined) {
    out.push([
      ['spec', 'outputSchema'],
      'responseFormat json needs an outputSchema to validate the reply against',
    ]);
  }
  if (format !== 'json' && spec.outputSchema !== undefined) {
    out.push([['spec', 'model', 'responseFormat'], 'an outputSchema needs responseFormat json']);
  }
  const label = labels?.[AGENT_LABEL];
  if (label !== undefined && label !== spec.agent) {
    out.push([
      ['metadata', 'labels', AGENT_LABEL],
      `label says agent "${label}" but spec.agent is "${spec.agent}"`,
    ]);
  }
  const bytes = Buffer.byteLength(canonicalJson(spec));
  if (bytes > PROMPT_LIMITS.specBytes) {
    out.push([['spec'], `spec is ${bytes} bytes, more than the limit of ${PROMPT_LIMITS.specBytes}`]);
  }
  return out;
}

/**
 * Validates one object. `origin` names where it came from (file path or
 * `<namespace>/<name>`); `locate` maps a field path to a line of the file.
 */
export function validatePromptObject(
  object: unknown,
  origin: string,
  locate?: (path: FieldPath) => number | undefined,
): PromptValidation {
  const problem = (path: FieldPath, message: string): PromptProblem => {
    const line = locate?.(path);
    return { path: dotted(path), message, ...(line !== undefined ? { line } : {}) };
  };
  const parsed = AgentPromptObjectSchema.safeParse(object);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => problem(i.path as FieldPath, i.message)),
    };
  }
  const { metadata, spec } = parsed.data;
  const extra = specProblems(spec, metadata.labels);
  if (extra.length > 0) return { ok: false, problems: extra.map(([p, m]) => problem(p, m)) };
  const prompt: LoadedPrompt = Object.freeze({
    agent: spec.agent,
    name: spec.name,
    version: spec.version,
    hash: promptHash(spec),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    system: spec.system,
    templates: Object.freeze({ ...(spec.templates ?? {}) }),
    variables: Object.freeze([...(spec.variables ?? [])]),
    model: Object.freeze({ ...(spec.model ?? {}) }),
    ...(spec.outputSchema !== undefined ? { outputSchema: spec.outputSchema } : {}),
    origin,
  });
  return { ok: true, prompt };
}

/** One line per problem: `<origin>:<line>: <path>: <why>`. */
export function formatProblems(origin: string, problems: readonly PromptProblem[]): string {
  return problems
    .map((p) => `${origin}${p.line !== undefined ? `:${p.line}` : ''}: ${p.path || '(object)'}: ${p.message}`)
    .join('\n');
}
