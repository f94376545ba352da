/** Error codes of rule synthesis and delivery. */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    /** A rule cannot be synthesized from the given incident (no events, no usable field). */
    RULES_SYNTHESIS: true;
  }
}
export {};
