/**
 * Canonical JSON (object keys sorted, no whitespace) and its SHA-256, for
 * audit input digests: the same input always gives the same digest,
 * whatever the key order it arrived in.
 */
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    // undefined / functions are not JSON; write them as null so the digest still covers the shape.
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => JSON.stringify(k) + ':' + canonicalJson((value as Record<string, unknown>)[k]));
  return '{' + entries.join(',') + '}';
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of the canonical JSON of `value`, lowercase hex. */
export function inputDigest(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
