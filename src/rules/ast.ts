/**
 * The AST of a Falco condition, shaped like libsinsp's filter AST: n-ary and/or,
 * not, macro identifiers, unary checks (`exists`) and binary checks whose right
 * side is a value, a parenthesized list, a list identifier or a field (val() or
 * a transformer). Positions are offsets into the condition text.
 */

export type UnaryOperator = 'exists';
export const NUM_OPERATORS = ['<=', '<', '>=', '>'] as const;
/** Word operators need a blank after them, as in Falco (`glob ` …). */
export const STR_OPERATORS = [
  '==',
  '=',
  '!=',
  'glob',
  'iglob',
  'contains',
  'icontains',
  'bcontains',
  'startswith',
  'bstartswith',
  'endswith',
  'regex',
] as const;
export const LIST_OPERATORS = ['intersects', 'in', 'pmatch'] as const;
export type BinaryOperator =
  (typeof NUM_OPERATORS)[number] | (typeof STR_OPERATORS)[number] | (typeof LIST_OPERATORS)[number];
export const TRANSFORMERS = ['tolower', 'toupper', 'b64', 'basename', 'len'] as const;
export type TransformerName = (typeof TRANSFORMERS)[number] | 'val';

export interface FieldRef {
  kind: 'field';
  /** e.g. `proc.aname`, `ka.req.pod.containers.image`, `jevt.value`. */
  name: string;
  /** The bracket argument, e.g. `2` of `proc.aname[2]`, `/stage` of `jevt.value[/stage]`. */
  arg?: string;
  pos: number;
}

export interface TransformerRef {
  kind: 'transformer';
  name: TransformerName;
  arg: FieldRef | TransformerRef;
  pos: number;
}

export type FieldOperand = FieldRef | TransformerRef;

export interface ValueOperand {
  kind: 'value';
  value: string;
  pos: number;
}
export interface ListOperand {
  kind: 'list';
  values: string[];
  pos: number;
}
/** `in some_list` without parentheses: a reference to a named list. */
export interface ListRefOperand {
  kind: 'listref';
  name: string;
  pos: number;
}
export type Operand = ValueOperand | ListOperand | ListRefOperand | FieldOperand;

export type Expr =
  | { kind: 'and'; children: Expr[]; pos: number }
  | { kind: 'or'; children: Expr[]; pos: number }
  | { kind: 'not'; child: Expr; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'unary'; field: FieldOperand; op: UnaryOperator; pos: number }
  | { kind: 'binary'; field: FieldOperand; op: BinaryOperator; value: Operand; pos: number };

export type AndExpr = Extract<Expr, { kind: 'and' }>;
export type BinaryExpr = Extract<Expr, { kind: 'binary' }>;

/** The AST without positions: what round-trip equality compares. */
export function stripPositions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripPositions);
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) if (k !== 'pos') out[k] = stripPositions(v);
    return out;
  }
  return node;
}
