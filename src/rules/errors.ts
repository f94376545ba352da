/**
 * Error codes of the rules module. A rules error always says where (file, line,
 * column) and shows the offending text, so an author (human or agent) can fix it.
 */
import { FalconerError } from '../errors.ts';

declare module '../errors.ts' {
  interface ErrorCodeRegistry {
    /** A condition does not parse (lexer/parser). */
    RULES_CONDITION_SYNTAX: true;
    /** A rules file is not valid YAML or not a valid Falco rules document. */
    RULES_FILE_INVALID: true;
    /** A reference cannot be resolved: undefined macro, cycle, append to nothing. */
    RULES_REFERENCE: true;
    /** A condition is syntactically valid but cannot be compiled (operator/value mismatch). */
    RULES_COMPILE: true;
    /** An events file cannot be read as Falco alerts or Kubernetes audit events. */
    RULES_EVENTS_INVALID: true;
  }
}

/** Where something is in a rules file (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One located problem, as `falconer rules validate` reports it. */
export interface RulesIssue extends SourceLocation {
  message: string;
  /** The offending text (a short excerpt). */
  text: string;
}

/** Longest excerpt of offending text kept in errors (attacker-controlled content stays bounded). */
export const MAX_EXCERPT = 80;

/** The text at an offset (or, at the very end, the text just before it), bounded and trimmed. */
export function excerpt(text: string, from = 0): string {
  let start = from;
  if (text.slice(from).trim() === '') start = Math.max(0, text.trimEnd().length - 30);
  const s = text.slice(start, start + MAX_EXCERPT);
  return (s.length < text.length - start ? `${s}…` : s).trim();
}

export function rulesError(
  code: 'RULES_CONDITION_SYNTAX' | 'RULES_FILE_INVALID' | 'RULES_REFERENCE' | 'RULES_COMPILE',
  issue: RulesIssue,
): FalconerError {
  return new FalconerError(code, `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`, {
    ...issue,
  });
}
