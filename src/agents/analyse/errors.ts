/** Error codes of the analyse agent. */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    ANALYSE_INPUT_INVALID: true;
    /** The model's answer stayed invalid after the repair round (not JSON, schema, invented ids/actions, huge, cut off). */
    ANALYSE_LLM_INVALID_ANSWER: true;
    /** The model kept calling tools past the round/call limits, even after being told to answer. */
    ANALYSE_LLM_TOOL_LOOP: true;
    /** The analysis spent its token allowance before an answer. */
    ANALYSE_LLM_TOKEN_LIMIT: true;
    /** The analysis took longer than its wall-time limit. */
    ANALYSE_LLM_TIMEOUT: true;
    /** No prompt `analyse/incident-analysis` is loaded. */
    ANALYSE_LLM_NO_PROMPT: true;
  }
}
export {};
