/** Error codes of the local platform launcher (see src/errors.ts for the augmentation pattern). */
declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** An agent did not answer /readyz in time, or kept crashing while starting. */
    PLATFORM_NOT_READY: true;
    /** The demo's platform run failed (an agent crashed, the pipeline did not settle). */
    PLATFORM_DEMO_FAILED: true;
  }
}
export {};
