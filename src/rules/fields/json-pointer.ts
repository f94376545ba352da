/** RFC 6901 JSON pointers (`/requestObject/spec/0`), as the json plugin's `jevt.value[…]` reads them. */

export function jsonPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  if (!pointer.startsWith('/')) return undefined;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key)) return undefined;
      cur = cur[Number(key)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.prototype.hasOwnProperty.call(cur, key)
        ? (cur as Record<string, unknown>)[key]
        : undefined;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}
