/** The coordinator's error codes (augmenting src/errors.ts). */
declare module '../../errors.ts' {
  interface ErrorCodeRegistry {
    INCIDENT_ILLEGAL_TRANSITION: true;
    INCIDENT_NOT_FOUND: true;
    INCIDENT_CONFLICT: true;
    PROPOSAL_NOT_FOUND: true;
    APPROVAL_NOT_ALLOWED: true;
    APPROVAL_DUPLICATE: true;
    APPROVAL_EXPIRED: true;
    LINK_INVALID: true;
    LINK_EXPIRED: true;
    LINK_USED: true;
    PEER_FAILED: true;
    PEER_TIMEOUT: true;
    HITL_UNAUTHORIZED: true;
    HITL_FORBIDDEN: true;
    HITL_BAD_REQUEST: true;
    HITL_NOT_FOUND: true;
  }
}
export {};
