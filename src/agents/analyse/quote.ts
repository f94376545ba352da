/**
 * Attacker-controlled text in the analyst's explanation: cut to a bound and
 * quoted with every control, format (bidi) and quote character escaped, so a
 * command line can neither break out of its quotes, nor forge lines of the
 * explanation, nor reorder what a reader sees.
 */

/** Event ids cited verbatim must look like ids; anything else is not cited by value. */
const SAFE_ID = /^[A-Za-z0-9._:@/-]{1,200}$/;

export function isSafeId(id: string): boolean {
  return SAFE_ID.test(id);
}

// C0/C1 controls, DEL, zero-width, line/paragraph separators, bidi controls, BOM.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"\\`]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    case '`':
      return '\\`';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** At most `max` code units of `s` (never splitting a surrogate pair), with a marker when cut. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…(${s.length} chars)`;
}

/** `"value"`, truncated then escaped: safe to embed in plain text, Markdown or a log line. */
export function quote(value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `"${truncate(s, max).replace(UNSAFE, escapeChar)}"`;
}
