/** Error codes of detect's rule skills (rules.propose, rules.apply). */
declare module '../../../errors.ts' {
  interface ErrorCodeRegistry {
    /** An approved rules file sent to detect does not load or compile. */
    DETECT_RULE_INVALID: true;
    /** A rule proposal could not be computed (its worker failed, stopped or ran out of memory). */
    DETECT_PROPOSAL_FAILED: true;
  }
}
export {};
