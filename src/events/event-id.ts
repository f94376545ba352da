/**
 * Falco gives alerts no id, so we derive one from everything the alert says:
 * identical alert ⇒ identical id (a retried POST, or the same alert arriving
 * directly and through falcosidekick, collapses), any changed field ⇒ a different
 * id. SHA-256 rather than a fast non-cryptographic hash because the content is
 * attacker-controlled: nobody should be able to forge a collision and hide an
 * alert behind another one's id. falcosidekick's random `uuid` is left out on purpose.
 *
 * The hashed text is an injective encoding of the alert, built cheaply:
 * every string is written as-is followed by NUL, unless it contains NUL or \x01
 * (only a hostile producer writes those), in which case it is written as \x01 +
 * its JSON string literal (which never contains a raw NUL or \x01) + NUL. Field
 * values carry a type tag, so "1" and 1 differ. output_fields keys are taken in
 * sorted order, so key order in the JSON does not matter.
 */
import { hash } from 'node:crypto';
import type { FieldValue } from './types.ts';

export interface IdentityParts {
  readonly source: string;
  readonly rule: string;
  readonly time: string;
  readonly hostname: string;
  readonly priority: string;
  readonly output: string;
  readonly tags: readonly string[];
  readonly fields: Readonly<Record<string, FieldValue>>;
}

/** Hex digits kept: 32 hex = 128 bits, ample against accidental and forged collisions. */
const ID_HEX_LENGTH = 32;
const VERSION = 'falco-alert/1\u0000';

function str(s: string): string {
  if (s.indexOf('\u0000') === -1 && s.indexOf('\u0001') === -1) return s + '\u0000';
  return '\u0001' + JSON.stringify(s) + '\u0000';
}

function scalar(v: string | number | boolean | null): string {
  switch (typeof v) {
    case 'string':
      return 's' + str(v);
    case 'number':
      return 'n' + String(v) + '\u0000';
    case 'boolean':
      return v ? 't' : 'f';
    default:
      return 'z';
  }
}

function value(v: FieldValue): string {
  if (Array.isArray(v)) {
    let out = 'a' + String(v.length) + '\u0000';
    for (const e of v as readonly (string | number | boolean | null)[]) out += scalar(e);
    return out;
  }
  return scalar(v as string | number | boolean | null);
}

function sortedKeys(fields: Readonly<Record<string, FieldValue>>): string[] {
  const keys = Object.keys(fields);
  // Falco writes keys already sorted (nlohmann::json is a std::map): check before sorting.
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) return keys.sort();
  }
  return keys;
}

/** The canonical text that the id hashes; exported for tests. */
export function canonicalIdentity(p: IdentityParts): string {
  let s =
    VERSION + str(p.source) + str(p.rule) + str(p.time) + str(p.hostname) + str(p.priority) + str(p.output);
  s += 'T' + String(p.tags.length) + '\u0000';
  for (let i = 0; i < p.tags.length; i++) s += str(p.tags[i] as string);
  const keys = sortedKeys(p.fields);
  s += 'F' + String(keys.length) + '\u0000';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    s += str(k) + value(p.fields[k] as FieldValue);
  }
  return s;
}

/** 128-bit lowercase hex id. */
export function eventId(p: IdentityParts): string {
  return hash('sha256', canonicalIdentity(p), 'hex').slice(0, ID_HEX_LENGTH);
}
