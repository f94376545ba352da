/**
 * Prints a condition AST back to Falco syntax. Round-trip contract:
 * parseCondition(printCondition(ast)) has the same AST (positions aside).
 * Values are printed bare when Falco would lex them back as the same bare
 * token, else double-quoted with Falco's escapes.
 */
import type { Expr, FieldOperand, Operand } from './ast.ts';

const BARE_VALUE = /^[^()"'\s=,]+$/;
const BARE_FIELD_ARG = /^[^\][\s"']+$/;
const KEYWORDS = new Set(['not', 'and', 'or']);

export function quoteValue(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    switch (c) {
      case '\\':
        // A backslash right before the closing quote would keep it from closing (Falco's lexer
        // looks at the previous character), so the last one uses Falco's legacy `\ ` escape.
        out += i === value.length - 1 ? '\\ ' : '\\\\';
        break;
      case '"':
        out += '\\"';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      default:
        out += c;
    }
  }
  return `${out}"`;
}

export function printValue(value: string): string {
  return BARE_VALUE.test(value) ? value : quoteValue(value);
}

export function printField(f: FieldOperand): string {
  if (f.kind === 'transformer') return `${f.name}(${printField(f.arg)})`;
  if (f.arg === undefined) return f.name;
  return `${f.name}[${BARE_FIELD_ARG.test(f.arg) ? f.arg : quoteValue(f.arg)}]`;
}

function printOperand(v: Operand): string {
  switch (v.kind) {
    case 'value':
      return printValue(v.value);
    case 'list':
      return `(${v.values.map(printValue).join(', ')})`;
    case 'listref':
      return v.name;
    default:
      return printField(v);
  }
}

function wrapped(e: Expr, when: readonly Expr['kind'][]): string {
  const s = printCondition(e);
  return when.includes(e.kind) ? `(${s})` : s;
}

export function printCondition(e: Expr): string {
  switch (e.kind) {
    case 'and':
      return e.children.map((c) => wrapped(c, ['and', 'or'])).join(' and ');
    case 'or':
      return e.children.map((c) => wrapped(c, ['or'])).join(' or ');
    case 'not':
      return `not ${wrapped(e.child, ['and', 'or', 'not'])}`;
    case 'ident':
      return KEYWORDS.has(e.name) ? `(${e.name})` : e.name;
    case 'unary':
      return `${printField(e.field)} ${e.op}`;
    case 'binary':
      return `${printField(e.field)} ${e.op} ${printOperand(e.value)}`;
  }
}
