/**
 * Falco condition parser: a scanner plus recursive descent that follows
 * libsinsp's grammar (userspace/libsinsp/filter/parser.cpp), written from its
 * description:
 *
 *   or    := and ('or' and)*            and := not ('and' not)*
 *   not   := ('not' blank)* check | 'not(' or ')'
 *   check := '(' or ')' | field cond | transformer cond | identifier (macro)
 *   cond  := 'exists' | numop number | strop value | listop (list | identifier | field)
 *   field := fieldname ('[' (quoted | barearg) ']')?
 *
 * The lexing is context-dependent (a bare value like `/bin/sh` or `2` is only a
 * token after an operator), so the "lexer" is a cursor with token matchers that
 * the parser calls where a token may appear — the same approach as libsinsp.
 * Every failure is a FalconerError located at the offending offset.
 */
import type { BinaryOperator, Expr, FieldOperand, FieldRef, Operand, TransformerName } from './ast.ts';
import { LIST_OPERATORS, NUM_OPERATORS, STR_OPERATORS, TRANSFORMERS } from './ast.ts';
import { FalconerError } from '../errors.ts';
import { excerpt, type SourceLocation } from './errors.ts';

/** Maps an offset of the condition text to a place in its file. */
export type LocationMapper = (offset: number) => SourceLocation;

export interface ParseOptions {
  /** Where the condition came from (default: line/column inside the condition, file `<condition>`). */
  locate?: LocationMapper;
  /** Maximum nesting of parentheses / not (default 200): deeper input is an error, never a stack overflow. */
  maxDepth?: number;
}

/** Longest condition accepted (bytes of text); longer input is rejected before parsing. */
export const MAX_CONDITION_LENGTH = 1_000_000;

const RGX_IDENTIFIER = /[a-zA-Z]+[a-zA-Z0-9_]*/y;
const RGX_FIELDNAME = /[a-zA-Z]+[a-zA-Z0-9_]*(?:\.[a-zA-Z]+[a-zA-Z0-9_]*)+/y;
const RGX_FIELDARG_BARESTR = /[^\][\s"']+/y;
const RGX_HEXNUM = /0[xX][0-9a-zA-Z]+/y;
const RGX_NUMBER = /[+-]?[0-9]+\.?[0-9]*(?:[eE][+-][0-9]+)?/y;
const RGX_BARESTR = /[^()"'\s=,]+/y;
const RGX_NOT_BLANK = /not\s+/y;
const BLANKS = new Set([' ', '\t', '\b', '\r', '\n']);
/** Word operators that must be followed by a blank (Falco: `glob `, `contains ` …). */
const WORD_OPS = new Set<string>(STR_OPERATORS.filter((op) => /^[a-z]/.test(op)));

export function defaultLocator(text: string, file = '<condition>'): LocationMapper {
  return (offset) => {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
      if (text[i] === '\n') {
        line++;
        lineStart = i + 1;
      }
    }
    return { file, line, column: offset - lineStart + 1 };
  };
}

/** Decode a quoted string the way Falco does (\b \f \n \r \t \\ \/ \" \' and `\ `). Returns null if invalid. */
export function unescapeQuoted(raw: string): { value: string } | { error: string; at: number } {
  const quote = raw[0];
  let out = '';
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = raw[++i];
    switch (n) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case ' ': // Falco keeps this legacy escape: `\ ` is a backslash
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case '"':
      case "'":
        if (n !== quote) return { error: `invalid \\${n} escape in ${quote}-quoted string`, at: i - 1 };
        out += n;
        break;
      default:
        return { error: `unsupported string escape sequence: \\${n ?? ''}`, at: i - 1 };
    }
  }
  return { value: out };
}

class ConditionParser {
  private pos = 0;
  private depth = 0;
  private lastToken = '';

  constructor(
    private readonly text: string,
    private readonly locate: LocationMapper,
    private readonly maxDepth: number,
  ) {}

  parse(): Expr {
    if (this.text.trim().length === 0) this.fail('condition is empty', 0);
    const expr = this.parseOr();
    this.blank();
    if (this.pos !== this.text.length)
      this.fail(`unexpected token after '${this.lastToken}', expecting 'or', 'and'`, this.pos);
    return expr;
  }

  fail(message: string, at: number): never {
    const loc = this.locate(at);
    const text = excerpt(this.text, at);
    throw new FalconerError('RULES_CONDITION_SYNTAX', `${loc.file}:${loc.line}:${loc.column}: ${message}`, {
      ...loc,
      offset: at,
      message,
      text,
    });
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`exceeded max nesting depth of ${this.maxDepth}`, this.pos);
  }

  private blank(): boolean {
    const start = this.pos;
    while (this.pos < this.text.length && BLANKS.has(this.text[this.pos]!)) this.pos++;
    return this.pos > start;
  }

  private str(s: string): boolean {
    if (this.text.startsWith(s, this.pos)) {
      this.pos += s.length;
      this.lastToken = s;
      return true;
    }
    return false;
  }

  private rgx(re: RegExp): boolean {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (m === null || m[0].length === 0) return false;
    this.pos += m[0].length;
    this.lastToken = m[0];
    return true;
  }

  private parseOr(): Expr {
    const pos = this.pos;
    this.blank();
    const children = [this.parseAnd()];
    this.blank();
    while (this.keyword('or')) children.push(this.parseAfterKeyword('or'));
    return children.length > 1 ? { kind: 'or', children, pos } : children[0]!;
  }

  private parseAnd(): Expr {
    const pos = this.pos;
    this.blank();
    const children = [this.parseNot()];
    this.blank();
    while (this.keyword('and')) children.push(this.parseAfterKeyword('and'));
    return children.length > 1 ? { kind: 'and', children, pos } : children[0]!;
  }

  /** `and`/`or` as Falco lexes them: the letters, then a blank or '('. */
  private keyword(word: 'and' | 'or'): boolean {
    return this.str(word);
  }

  private parseAfterKeyword(word: 'and' | 'or'): Expr {
    let child: Expr;
    if (!this.blank()) {
      if (this.str('(')) child = this.parseEmbeddedRemainder();
      else this.fail(`expected blank or '(' after '${word}'`, this.pos);
    } else child = word === 'or' ? this.parseAnd() : this.parseNot();
    this.blank();
    return child;
  }

  private parseNot(): Expr {
    this.blank();
    const pos = this.pos;
    let negate = false;
    while (this.rgx(RGX_NOT_BLANK)) negate = !negate;
    let child: Expr;
    if (this.str('not(')) {
      negate = !negate;
      child = this.parseEmbeddedRemainder();
    } else child = this.parseCheck();
    return negate ? { kind: 'not', child, pos } : child;
  }

  private parseEmbeddedRemainder(): Expr {
    this.enter();
    this.blank();
    const child = this.parseOr();
    this.blank();
    if (!this.str(')')) this.fail("expected a ')' token", this.pos);
    this.depth--;
    return child;
  }

  private parseCheck(): Expr {
    this.blank();
    const pos = this.pos;
    if (this.str('(')) return this.parseEmbeddedRemainder();
    const field = this.tryFieldOperand(false);
    if (field !== null) return this.parseCondition(field, pos);
    if (this.rgx(RGX_IDENTIFIER)) return { kind: 'ident', name: this.lastToken, pos };
    this.fail("expected a '(' token, a field check, or an identifier", pos);
  }

  /**
   * Left of an operator: a field or a transformer of a field. Right of an
   * operator (`valuePosition`): only `val(field)` or a transformer — a bare
   * `a.b` there is a string, as in Falco.
   */
  private tryFieldOperand(valuePosition: boolean): FieldOperand | null {
    const pos = this.pos;
    if (!valuePosition && this.rgx(RGX_FIELDNAME)) return this.parseFieldRemainder(this.lastToken, pos);
    const transformer = this.lexTransformer(valuePosition);
    if (transformer === null) return null;
    this.enter();
    this.blank();
    const argPos = this.pos;
    let arg: FieldOperand | null = null;
    if (transformer === 'val') {
      if (this.rgx(RGX_FIELDNAME)) arg = this.parseFieldRemainder(this.lastToken, argPos);
      else this.fail("expected a field within 'val' transformer", argPos);
    } else arg = this.tryFieldOperand(false);
    if (arg === null) this.fail('expected a field or a nested valid transformer', argPos);
    this.blank();
    if (!this.str(')')) this.fail("expected a ')' token closing the transformer", this.pos);
    this.depth--;
    return { kind: 'transformer', name: transformer, arg, pos };
  }

  private lexTransformer(allowVal: boolean): TransformerName | null {
    if (allowVal && this.str('val(')) return 'val';
    for (const t of TRANSFORMERS) if (this.str(`${t}(`)) return t;
    return null;
  }

  private parseFieldRemainder(name: string, pos: number): FieldRef {
    const field: FieldRef = { kind: 'field', name, pos };
    if (this.str('[')) {
      const argPos = this.pos;
      const quoted = this.lexQuoted();
      if (quoted !== null) field.arg = quoted;
      else if (this.rgx(RGX_FIELDARG_BARESTR)) field.arg = this.lastToken;
      else this.fail('expected a valid field argument: a quoted string or a bare string', argPos);
      if (!this.str(']')) this.fail("expected a ']' token", this.pos);
    }
    return field;
  }

  private lexQuoted(): string | null {
    const start = this.pos;
    const delim = this.text[start];
    if (delim !== '"' && delim !== "'") return null;
    let prev = '\\';
    for (let i = start; i < this.text.length; i++) {
      const c = this.text[i]!;
      if (i > start && c === delim && prev !== '\\') {
        const raw = this.text.slice(start, i + 1);
        const decoded = unescapeQuoted(raw);
        if ('error' in decoded) this.fail(decoded.error, start + decoded.at);
        this.pos = i + 1;
        this.lastToken = raw;
        return decoded.value;
      }
      // Falco's rule: a quote preceded by a backslash does not close, even after an escaped backslash.
      prev = i === start ? '' : c;
    }
    this.fail('unterminated quoted string', start);
  }

  private parseCondition(field: FieldOperand, pos: number): Expr {
    this.blank();
    if (this.str('exists')) return { kind: 'unary', field, op: 'exists', pos };
    this.blank();
    const opPos = this.pos;
    for (const op of NUM_OPERATORS)
      if (this.str(op)) return this.binary(field, op, this.parseNumValue(), pos);
    for (const op of STR_OPERATORS) {
      if (WORD_OPS.has(op)) {
        const next = this.text[this.pos + op.length];
        if (!this.text.startsWith(op, this.pos) || next === undefined || !BLANKS.has(next)) continue;
      }
      if (this.str(op)) return this.binary(field, op, this.parseStrValue(), pos);
    }
    for (const op of LIST_OPERATORS)
      if (this.str(op)) return this.binary(field, op, this.parseListValue(), pos);
    this.fail(
      `expected a valid check operator: one of 'exists', ${[...NUM_OPERATORS, ...STR_OPERATORS, ...LIST_OPERATORS].map((o) => `'${o}'`).join(', ')}`,
      opPos,
    );
  }

  private binary(field: FieldOperand, op: BinaryOperator, value: Operand, pos: number): Expr {
    return { kind: 'binary', field, op, value, pos };
  }

  private parseNumValue(): Operand {
    this.blank();
    const pos = this.pos;
    const f = this.tryFieldOperand(true);
    if (f !== null) return f;
    if (this.rgx(RGX_HEXNUM) || this.rgx(RGX_NUMBER)) return { kind: 'value', value: this.lastToken, pos };
    this.fail('expected a number value or a field with a valid transformer', pos);
  }

  private parseStrValue(): Operand {
    this.blank();
    const pos = this.pos;
    const f = this.tryFieldOperand(true);
    if (f !== null) return f;
    const v = this.lexPlainValue();
    if (v !== null) return { kind: 'value', value: v, pos };
    this.fail('expected a string value or a field with a valid transformer', pos);
  }

  private lexPlainValue(): string | null {
    const q = this.lexQuoted();
    if (q !== null) return q;
    return this.rgx(RGX_BARESTR) ? this.lastToken : null;
  }

  private parseListValue(): Operand {
    this.blank();
    const pos = this.pos;
    if (this.str('(')) {
      const values: string[] = [];
      this.blank();
      const first = this.lexPlainValue();
      if (first !== null) {
        values.push(first);
        this.blank();
        while (this.str(',')) {
          this.blank();
          const v = this.lexPlainValue();
          if (v === null) this.fail('expected a string value', this.pos);
          values.push(v);
          this.blank();
        }
      }
      if (!this.str(')')) this.fail("expected a ')' token", this.pos);
      return { kind: 'list', values, pos };
    }
    const f = this.tryFieldOperand(true);
    if (f !== null) return f;
    if (this.rgx(RGX_IDENTIFIER)) return { kind: 'listref', name: this.lastToken, pos };
    this.fail('expected a list, an identifier, or a field with a valid transformer', pos);
  }
}

/** Parse a Falco condition to its AST; throws a located FalconerError (RULES_CONDITION_SYNTAX). */
export function parseCondition(text: string, opts: ParseOptions = {}): Expr {
  const locate = opts.locate ?? defaultLocator(text);
  if (text.length > MAX_CONDITION_LENGTH) {
    const loc = locate(0);
    throw new FalconerError(
      'RULES_CONDITION_SYNTAX',
      `${loc.file}:${loc.line}:${loc.column}: condition longer than ${MAX_CONDITION_LENGTH} characters`,
      { ...loc, offset: 0, message: 'condition too long', text: excerpt(text) },
    );
  }
  return new ConditionParser(text, locate, opts.maxDepth ?? 200).parse();
}
