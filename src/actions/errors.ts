/** Error codes of the action catalogue and its executor. */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    ACTION_UNKNOWN: true;
    ACTION_INVALID_TARGET: true;
    ACTION_INVALID_PARAMS: true;
    ACTION_MANIFEST_MISMATCH: true;
    ACTION_TARGET_NOT_FOUND: true;
    ACTION_REFUSED: true;
    ACTION_KUBE_ERROR: true;
    ACTION_ROLLBACK_FAILED: true;
    SCHEMA_INVALID: true;
  }
}
export {};
