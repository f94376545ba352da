/** Text from events or people, made safe for one line of a commit message or an audit record. */
export function oneLine(s: string, max = 200): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a || c === 0x0d || c === 0x09) out += ' ';
    else if (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0) && c !== 0x2028 && c !== 0x2029) out += ch;
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}
