/** Cheap statistics of attacker-written text (command lines), computed without allocating. */

/** Characters examined at most: enough to characterize a payload, bounded cost per event. */
export const MAX_TEXT_SCAN = 4096;

const counts = new Uint32Array(256);
const seen = new Uint8Array(256);
/** c · log2(c) for every count a scan can produce: one table read instead of a log per distinct character. */
const C_LOG2_C = new Float64Array(MAX_TEXT_SCAN + 1);
for (let c = 1; c <= MAX_TEXT_SCAN; c++) C_LOG2_C[c] = c * Math.log2(c);

/**
 * Shannon entropy in bits per character of the first MAX_TEXT_SCAN characters
 * (code units folded to 8 bits: enough to tell base64 or hex payloads, which
 * sit near 6 and 4 bits, from ordinary command lines, which sit near 3–4.5).
 */
export function shannonEntropy(s: string): number {
  const n = Math.min(s.length, MAX_TEXT_SCAN);
  if (n === 0) return 0;
  let distinct = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const before = counts[c]!;
    counts[c] = before + 1;
    if (before === 0) seen[distinct++] = c;
  }
  // H = −Σ (c/n) log2(c/n) = log2 n − (Σ c log2 c) / n
  let sum = 0;
  for (let k = 0; k < distinct; k++) {
    const c = seen[k]!;
    sum += C_LOG2_C[counts[c]!]!;
    counts[c] = 0;
  }
  const h = Math.log2(n) - sum / n;
  return h > 0 ? h : 0;
}
