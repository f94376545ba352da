/**
 * Whether a signal report tells the analysis something new. Detect's outbox
 * sends such an update at once (others are coalesced), and the coordinator
 * re-analyses an open incident, or opens a follow-up of a closed one, for it.
 */

/** What a report says about its signal, as far as novelty goes. */
export interface SignalDigest {
  readonly rules: readonly string[];
  readonly priorityLevel: number;
  /** Absent from reports of a detect that predates it: then only rules and priority count. */
  readonly behaviours?: readonly string[] | undefined;
}

/**
 * A signal not seen before, a rule not seen before, a more urgent priority (a lower Falco level), or
 * a behaviour not seen before (the same rule fired by another process, user or verb).
 */
export function isNovel(previous: SignalDigest | undefined, next: SignalDigest): boolean {
  if (previous === undefined) return true;
  if (next.priorityLevel < previous.priorityLevel) return true;
  const seen = new Set(previous.rules);
  if (next.rules.some((r) => !seen.has(r))) return true;
  if (previous.behaviours === undefined || next.behaviours === undefined) return false;
  const known = new Set(previous.behaviours);
  return next.behaviours.some((b) => !known.has(b));
}
