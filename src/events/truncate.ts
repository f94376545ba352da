/** Attacker-controlled text in messages and responses is cut to a small size, never echoed whole. */
export function truncateForMessage(s: string, max = 80): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}…(${s.length} chars)`;
}
