/** Error codes of policy evaluation. Every one of them means: nothing is executed. */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    POLICY_INPUT_INVALID: true;
    POLICY_BUNDLE_INVALID: true;
    POLICY_BUNDLE_STALE: true;
    POLICY_SERVER_UNAVAILABLE: true;
    POLICY_SERVER_TIMEOUT: true;
    POLICY_RESULT_INVALID: true;
    POLICY_EVALUATOR_UNKNOWN: true;
  }
}
export {};
