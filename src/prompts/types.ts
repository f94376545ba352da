/**
 * A prompt as an agent uses it, loaded from an `AgentPrompt` resource
 * (falconer.dev/v1alpha1) read from a folder or watched in-cluster.
 * Templates use `{{name}}` placeholders listed in `variables`; the caller
 * fills them with already-fenced values (untrusted data never goes in raw).
 */
export interface PromptModelParams {
  readonly name?: string;
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly responseFormat?: 'text' | 'json';
}

export interface LoadedPrompt {
  readonly agent: string;
  readonly name: string;
  readonly version: string;
  /** sha256 (hex) of the canonical spec: what every LLM call records. */
  readonly hash: string;
  readonly description?: string;
  /** The system prompt (may hold placeholders). */
  readonly system: string;
  /** Named message templates, e.g. `user` for the first user message. */
  readonly templates: Readonly<Record<string, string>>;
  readonly variables: readonly string[];
  readonly model: PromptModelParams;
  /** Reference to the output schema the reply must match, e.g. `falconer.dev/analysis/v1`. */
  readonly outputSchema?: string;
  /** Where it came from: a file path or `<namespace>/<name>` in the cluster. */
  readonly origin: string;
}

export interface PromptSource {
  /** The current prompt `name` of `agent`, or undefined when none is loaded. */
  get(agent: string, name: string): LoadedPrompt | undefined;
  list(): LoadedPrompt[];
  close(): Promise<void>;
}

/** The output schema references agents understand (the loader refuses others). */
export const OUTPUT_SCHEMA_REFS = [
  'falconer.dev/analysis/v1',
  'falconer.dev/rule-proposal/v1',
  'falconer.dev/incident-summary/v1',
] as const;
export type OutputSchemaRef = (typeof OUTPUT_SCHEMA_REFS)[number];
