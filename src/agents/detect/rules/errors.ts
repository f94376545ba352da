/** Error codes of detect's rule skills (rules.propose, rules.apply). */
declare module '../../../errors.ts' {
  interface ErrorCodeRegistry {
    /** An approved rules file sent to detect does not load or compile. */
    DETECT_RULE_INVALID: true;
  }
}
export {};
