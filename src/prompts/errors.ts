/** Error codes of AgentPrompt loading (src/prompts). */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** A resource failed validation: its problems are in the context (resource, problems[]). */
    PROMPT_INVALID: true;
    /** The folder or the cluster the prompts come from cannot be read. */
    PROMPT_SOURCE_UNAVAILABLE: true;
    /** A template was rendered without a value for one of its placeholders, or with an unknown template name. */
    PROMPT_RENDER: true;
  }
}
export {};
