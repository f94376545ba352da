/** AgentPrompt loading: the public surface of src/prompts. */
export type { LoadedPrompt, PromptModelParams, PromptSource, OutputSchemaRef } from './types.ts';
export { OUTPUT_SCHEMA_REFS } from './types.ts';
export { openPromptSource, type OpenPromptSourceOptions, type OpenedPromptSource } from './open.ts';
export { PromptsConfigSchema, DEFAULT_PROMPTS_DIR, type PromptsConfig } from './config.ts';
export { PromptRegistry, type PromptChange, type PromptResourceStatus } from './registry.ts';
export { FolderPromptSource } from './folder-source.ts';
export { ClusterPromptSource } from './cluster-source.ts';
export { PromptMetrics } from './metrics.ts';
export { renderPrompt, fillPlaceholders } from './placeholders.ts';
export { validatePromptObject, formatProblems, promptHash, type PromptProblem } from './validate.ts';
export { parsePromptYaml } from './yaml-documents.ts';
