/** Error codes of the analyse agent. */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    ANALYSE_INPUT_INVALID: true;
  }
}
export {};
