/** Error codes of rule delivery (GitOps commit, ConfigMap, approval gate). */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    /** A git command of the GitOps delivery failed (repository, branch, commit). */
    RULES_DELIVERY_GIT: true;
    /** A proposal cannot be merged into the rules file (invalid YAML or rules). */
    RULES_DELIVERY_INVALID: true;
    /** No proposal with that id. */
    RULES_PROPOSAL_NOT_FOUND: true;
    /** The proposal is not pending (already approved or rejected). */
    RULES_PROPOSAL_STATE: true;
  }
}
export {};
