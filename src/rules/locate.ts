/**
 * Maps offsets of a YAML scalar's value (a condition) back to file positions.
 * Folded and plain multi-line scalars rewrite whitespace and quoted ones decode
 * escapes, so the value is aligned with its source text character by character,
 * skipping whitespace differences.
 */
import type { LineCounter, Scalar } from 'yaml';
import type { SourceLocation } from './errors.ts';
import type { LocationMapper } from './parser.ts';

const WS = /\s/;

export function scalarLocator(src: string, node: Scalar, lines: LineCounter, file: string): LocationMapper {
  const value = String(node.value ?? '');
  const [start, end] = node.range ?? [0, 0];
  let from = start;
  if (node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL') {
    const nl = src.indexOf('\n', start);
    from = nl === -1 ? start : nl + 1;
  } else if (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') from = start + 1;
  const lastChar = value.trimEnd().length;
  return (at: number): SourceLocation => {
    // Past the end (an error at end of input) points just after the last visible character.
    const offset = Math.min(at, lastChar);
    let i = from;
    let j = 0;
    while (j < offset && i < end) {
      const s = src[i]!;
      const v = value[j]!;
      if (s === v) {
        i++;
        j++;
      } else if (WS.test(s)) i++;
      else if (WS.test(v)) j++;
      else {
        i++;
        j++;
      }
    }
    while (j < lastChar && i < end && WS.test(src[i]!) && !WS.test(value[j]!)) i++;
    const pos = lines.linePos(i);
    return { file, line: pos.line, column: pos.col };
  };
}

export function nodeLocation(lines: LineCounter, file: string, offset: number): SourceLocation {
  const pos = lines.linePos(offset);
  return { file, line: pos.line, column: pos.col };
}
