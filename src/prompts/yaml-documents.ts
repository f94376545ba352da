/**
 * A YAML file of AgentPrompts (one or more documents) → plain objects, each
 * with a way to find the line of a field, so that errors point at file:line.
 */
import { isMap, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { FieldPath, PromptProblem } from './validate.ts';

export interface YamlPromptDocument {
  /** 0-based position of the document in the file. */
  readonly index: number;
  readonly value: unknown;
  /** metadata.name when the document has a string one (identifies the resource within the file). */
  readonly name: string | undefined;
  readonly locate: (path: FieldPath) => number | undefined;
}

export type YamlParse =
  | { readonly ok: true; readonly documents: readonly YamlPromptDocument[] }
  | { readonly ok: false; readonly problems: readonly PromptProblem[] };

function locator(doc: Document, lines: LineCounter): (path: FieldPath) => number | undefined {
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? undefined : lines.linePos(offset).line;
  return (path) => {
    // The deepest existing field on the path: the key of a map entry, or the item of a list.
    for (let depth = path.length; depth > 0; depth--) {
      const parent = depth === 1 ? doc.contents : doc.getIn(path.slice(0, depth - 1), true);
      const seg = path[depth - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
        const range = (pair?.key as { range?: [number, number, number] } | null)?.range;
        if (range !== undefined) return lineOf(range[0]);
      } else if (isSeq(parent) && typeof seg === 'number') {
        const item = parent.items[seg] as { range?: [number, number, number] } | undefined;
        if (item?.range !== undefined) return lineOf(item.range[0]);
      }
    }
    return lineOf(doc.contents?.range?.[0]);
  };
}

export function parsePromptYaml(text: string): YamlParse {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) {
    return { ok: false, problems: [{ path: '', message: 'not a YAML stream' }] };
  }
  const problems: PromptProblem[] = docs.flatMap((d) =>
    d.errors.map((e) => ({
      path: '',
      message: e.message.split('\n')[0] ?? e.message,
      ...(e.linePos?.[0] !== undefined ? { line: e.linePos[0].line } : {}),
    })),
  );
  if (problems.length > 0) return { ok: false, problems };
  const documents: YamlPromptDocument[] = [];
  for (const [index, doc] of docs.entries()) {
    if (doc.contents === null) continue; // an empty document (e.g. a trailing ---)
    let value: unknown;
    try {
      // maxAliasCount bounds alias expansion ("billion laughs").
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      const line = lines.linePos(doc.contents.range?.[0] ?? 0).line;
      return {
        ok: false,
        problems: [{ path: '', message: err instanceof Error ? err.message : String(err), line }],
      };
    }
    if (value === null || value === undefined) continue; // only comments, or `---` with nothing after it
    const meta = (value as { metadata?: { name?: unknown } } | null)?.metadata;
    documents.push({
      index,
      value,
      name: typeof meta?.name === 'string' ? meta.name : undefined,
      locate: locator(doc, lines),
    });
  }
  return { ok: true, documents };
}
