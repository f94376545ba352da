/** Error codes of the persistent store (see src/errors.ts for the augmentation pattern). */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    STORE_BAD_URL: true;
    STORE_MIGRATION_FAILED: true;
    AUDIT_APPEND_FAILED: true;
  }
}
export {};
