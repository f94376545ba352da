/** String matchers with Falco's semantics: glob (fnmatch-like, `*` crosses `/`) and path-prefix (pmatch). */

/** Compile a glob (`*`, `?`, `[…]`/`[!…]`, `\x` escapes) to an anchored RegExp. */
export function globToRegExp(glob: string, caseInsensitive = false): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < glob.length) re += escapeRe(glob[++i]!);
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      let negate = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        negate = true;
        body = body.slice(1);
      }
      re += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, (m) => `\\${m}`)}]`;
      i = close;
    } else re += escapeRe(c);
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'i' : '');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c;
}

/** pmatch: true when a path is one of the prefixes or lies under one (component-wise). */
export function pathPrefixMatcher(prefixes: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const dirs: string[] = [];
  for (const p of prefixes) {
    const trimmed = p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
    exact.add(trimmed);
    dirs.push(trimmed === '/' ? '/' : `${trimmed}/`);
  }
  return (path) => {
    if (exact.has(path)) return true;
    for (const d of dirs) if (path.startsWith(d)) return true;
    return false;
  };
}

/** Decode a hex operand of bcontains/bstartswith (`7f454c46`) to a binary (latin1) string; null if not hex. */
export function hexToBinary(hex: string): string | null {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('latin1');
}
