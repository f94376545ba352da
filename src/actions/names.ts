/**
 * Kubernetes name, label and annotation rules. Every value that reaches a
 * rendered object passes through here: event fields are attacker-controlled,
 * so they are only ever used as values, sanitized to what the API accepts,
 * never as keys.
 */
import { createHash } from 'node:crypto';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

export function isDns1123Subdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

export function isLabelValue(s: string): boolean {
  return s.length <= 63 && LABEL_VALUE.test(s);
}

/** A label or annotation key: optional DNS-subdomain prefix + '/' + a name of at most 63 characters. */
export function isQualifiedKey(s: string): boolean {
  const slash = s.indexOf('/');
  const name = slash === -1 ? s : s.slice(slash + 1);
  const prefix = slash === -1 ? undefined : s.slice(0, slash);
  if (prefix !== undefined && (prefix.length === 0 || !isDns1123Subdomain(prefix))) return false;
  return name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name);
}

export function shortHash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 10);
}

/**
 * A DNS-1123 label built from `base` (lower-cased, other characters become
 * '-'), always ending in a hash of the raw parts so that two different raw
 * inputs never collide after sanitizing.
 */
export function dnsLabel(prefix: string, raw: string, maxLength = 63): string {
  const hash = shortHash(prefix, raw);
  const budget = maxLength - prefix.length - hash.length - 2;
  const cleaned = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, Math.max(0, budget))
    .replace(/-+$/g, '');
  const name = [prefix, cleaned, hash].filter((p) => p.length > 0).join('-');
  return name;
}

/** A valid label value from any string (at most 63 characters; empty stays empty). */
export function labelValue(raw: string): string {
  const cleaned = raw.replace(/[^A-Za-z0-9_.-]+/g, '-');
  let v = cleaned.length > 63 ? `${cleaned.slice(0, 52)}-${shortHash(raw)}` : cleaned;
  v = v.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  return v;
}

function isControl(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return (code < 0x20 && c !== '\t' && c !== '\n') || code === 0x7f;
}

/** Annotation values may hold any text; cap them so one object stays small. */
export function annotationValue(raw: string, max = 1024): string {
  // Drop control characters other than tab/newline: they render badly in kubectl.
  const cleaned = [...raw].filter((c) => !isControl(c)).join('');
  return cleaned.length > max ? `${cleaned.slice(0, max - 1)}…` : cleaned;
}

/**
 * An OCI image reference: [registry[:port]/]path[:tag][@digest]. Only these
 * characters, so a reference can never carry Kyverno wildcards (`*`, `?`),
 * alternation (`|`), negation (`!`) or a `{{ }}` variable into a policy.
 */
const IMAGE_REF =
  /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export function isImageReference(s: string): boolean {
  return s.length > 0 && s.length <= 512 && IMAGE_REF.test(s);
}
