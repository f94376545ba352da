/**
 * Cheap, allocation-free 32-bit hashing of event fields for the featurizer's
 * sketches. FNV-1a over UTF-16 code units, chainable through the seed so that
 * a composite key (feature, owner, value) hashes without building a string.
 * Not cryptographic: an attacker who can predict collisions only makes their
 * own events look more common in one of four sketch rows (see sketch.ts).
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of a string, continuing from `seed` (use the result of another hash to chain). */
export function hashString(s: string, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** FNV-1a of s[start, end), without slicing. */
export function hashRange(s: string, start: number, end: number, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** Folds a 32-bit integer (e.g. a port, or another hash) into a running hash. */
export function hashInt(x: number, seed: number = FNV_OFFSET): number {
  let h = seed | 0;
  h ^= x & 0xff;
  h = Math.imul(h, FNV_PRIME);
  h ^= (x >>> 8) & 0xff;
  h = Math.imul(h, FNV_PRIME);
  h ^= (x >>> 16) & 0xff;
  h = Math.imul(h, FNV_PRIME);
  h ^= x >>> 24;
  h = Math.imul(h, FNV_PRIME);
  return h >>> 0;
}

/** murmur3's finalizer: spreads FNV's weak low bits before they index a table. */
export function mix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A per-feature salt, so equal strings in different features land in different cells. */
export function salt(name: string): number {
  return mix32(hashString(name));
}
