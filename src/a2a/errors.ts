/**
 * Error codes of the A2A wiring (module augmentation of src/errors.ts). The
 * client raises these for every failed call so that callers can branch on a
 * stable code; the server sends the same codes to peers in the A2A error's
 * ErrorInfo (`reason`).
 */
import { FalconerError } from '../errors.ts';

declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** The caller's identity may not call this skill (authorization table). */
    A2A_FORBIDDEN: true;
    /** The target agent does not offer this skill. */
    A2A_UNKNOWN_SKILL: true;
    /** The skill input did not match its schema (or the message had no skill data part). */
    A2A_INVALID_INPUT: true;
    /** The skill output did not match its schema (a bug on the answering side). */
    A2A_INVALID_OUTPUT: true;
    /** The skill handler failed. */
    A2A_SKILL_FAILED: true;
    /** The peer's certificate does not carry the SPIFFE identity we expected. */
    A2A_PEER_IDENTITY: true;
    /** The peer could not be reached, or answered 5xx, after all retries. */
    A2A_UNAVAILABLE: true;
    /** The call did not complete within its deadline. */
    A2A_TIMEOUT: true;
    /** The peer answered something that is not a valid A2A skill reply. */
    A2A_PROTOCOL: true;
    /** The peer refused the call with an A2A error we have no finer code for. */
    A2A_REMOTE_ERROR: true;
    /** A SPIFFE id that does not parse, or is not a Falconer agent of this trust domain. */
    A2A_SPIFFE_INVALID: true;
    /** Certificate / key / CA files missing, unreadable or invalid. */
    TLS_FILES_INVALID: true;
    /** The dev PKI could not be created. */
    PKI_ERROR: true;
  }
}

/** The codes a server may send to a peer (ErrorInfo.reason); anything else maps to A2A_REMOTE_ERROR. */
export const WIRE_ERROR_CODES = [
  'A2A_FORBIDDEN',
  'A2A_UNKNOWN_SKILL',
  'A2A_INVALID_INPUT',
  'A2A_INVALID_OUTPUT',
  'A2A_SKILL_FAILED',
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export function isWireErrorCode(value: unknown): value is WireErrorCode {
  return typeof value === 'string' && (WIRE_ERROR_CODES as readonly string[]).includes(value);
}

export { FalconerError };
