/**
 * Whether a signal report tells the analysis something new. Detect's outbox
 * sends such an update at once (others are coalesced), and the coordinator
 * re-analyses an open incident, or opens a follow-up of a closed one, for it.
 */

/** What a report says about its signal, as far as novelty goes. */
export interface SignalDigest {
  readonly rules: readonly string[];
  readonly priorityLevel: number;
}

/** A signal not seen before, a rule not seen before, or a more urgent priority (a lower Falco level). */
export function isNovel(previous: SignalDigest | undefined, next: SignalDigest): boolean {
  if (previous === undefined) return true;
  if (next.priorityLevel < previous.priorityLevel) return true;
  const seen = new Set(previous.rules);
  return next.rules.some((r) => !seen.has(r));
}
