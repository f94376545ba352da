/**
 * Compiles a resolved condition ONCE into a tree of closures, then evaluates
 * it per event with no allocation on the common paths.
 *
 * Missing fields (Falco: the field cannot be extracted from this event): every
 * comparison on a missing field is false, `exists` is false, and `not` simply
 * negates — so `not <missing> = x` is true. This is what libsinsp does: a check
 * whose field does not extract compares false, and the boolean operators
 * above it do not know why.
 *
 * Values: a number field compares numerically with a numeric operand, anything
 * else compares as text (Falco renders numbers, booleans and JSON the same
 * way). A list field (array) works with `in` (every element in the set),
 * `intersects` (some element), `pmatch` (some element); other operators on a
 * list are true if some element matches; an empty list is missing.
 */
import type { BinaryExpr, Expr, FieldOperand, Operand } from './ast.ts';
import { FalconerError } from '../errors.ts';
import type { Extracted, FieldSource, Getter, Scalar } from './fields/types.ts';
import { globToRegExp, hexToBinary, pathPrefixMatcher } from './match.ts';
import type { LocationMapper } from './parser.ts';

export type Predicate<E> = (event: E) => boolean;

export interface CompileOptions {
  /** Where nodes came from, for located compile errors (from the resolver). */
  locators?: WeakMap<object, LocationMapper>;
}

type Test = (x: Scalar) => boolean;

function compileError(node: object, pos: number, message: string, opts: CompileOptions): FalconerError {
  const loc = opts.locators?.get(node)?.(pos) ?? { file: '<condition>', line: 1, column: pos + 1 };
  return new FalconerError('RULES_COMPILE', `${loc.file}:${loc.line}:${loc.column}: ${message}`, {
    ...loc,
    message,
    text: '',
  });
}

const str = (x: Scalar): string => (typeof x === 'string' ? x : String(x));

function numeric(v: string): number {
  const t = v.trim();
  if (t === '') return NaN;
  return /^[+-]?0[xX][0-9a-fA-F]+$/.test(t) ? parseInt(t, 16) : Number(t);
}

function applyTransformer(name: string, x: Extracted): Extracted {
  if (x === undefined || x === null) return x;
  const one = (s: Scalar | null): Scalar | null => {
    if (s === null) return null;
    const t = str(s);
    switch (name) {
      case 'tolower':
        return t.toLowerCase();
      case 'toupper':
        return t.toUpperCase();
      case 'basename': {
        const i = t.lastIndexOf('/');
        return i === -1 ? t : t.slice(i + 1);
      }
      case 'b64':
        return Buffer.from(t, 'base64').toString('latin1');
      default:
        return t;
    }
  };
  if (name === 'len') return Array.isArray(x) ? x.length : str(x as Scalar).length;
  if (Array.isArray(x)) return x.map(one);
  return one(x as Scalar);
}

export class ConditionCompiler<E> {
  constructor(
    private readonly source: FieldSource<E>,
    private readonly opts: CompileOptions = {},
  ) {}

  field(f: FieldOperand): Getter<E> {
    if (f.kind === 'transformer') {
      const inner = this.field(f.arg);
      if (f.name === 'val') return inner;
      const name = f.name;
      return (e) => applyTransformer(name, inner(e));
    }
    const g = this.source.field(f);
    if (typeof g === 'string') throw compileError(f, f.pos, g, this.opts);
    return g;
  }

  compile(e: Expr): Predicate<E> {
    switch (e.kind) {
      case 'and': {
        const cs = this.compileChildren('and', e.children);
        if (cs.length === 2) {
          const [a, b] = cs as [Predicate<E>, Predicate<E>];
          return (ev) => a(ev) && b(ev);
        }
        return (ev) => {
          for (let i = 0; i < cs.length; i++) if (!cs[i]!(ev)) return false;
          return true;
        };
      }
      case 'or': {
        const cs = this.compileChildren('or', e.children);
        if (cs.length === 2) {
          const [a, b] = cs as [Predicate<E>, Predicate<E>];
          return (ev) => a(ev) || b(ev);
        }
        return (ev) => {
          for (let i = 0; i < cs.length; i++) if (cs[i]!(ev)) return true;
          return false;
        };
      }
      case 'not': {
        const c = this.compile(e.child);
        return (ev) => !c(ev);
      }
      case 'ident':
        throw compileError(
          e,
          e.pos,
          `unresolved macro '${e.name}' (resolve macros before compiling)`,
          this.opts,
        );
      case 'unary': {
        const get = this.field(e.field);
        return (ev) => {
          const x = get(ev);
          return x !== undefined && x !== null && !(Array.isArray(x) && x.length === 0);
        };
      }
      case 'binary':
        return this.binary(e);
    }
  }

  /**
   * Children of an and/or, with the checks on one same plain field fused into
   * one predicate: the field is read once per evaluation (and lowercased once
   * for all its icontains) instead of once per check. Order of first
   * appearance is kept; semantics are the same (a list value takes the
   * per-check path).
   */
  private compileChildren(kind: 'and' | 'or', children: readonly Expr[]): Predicate<E>[] {
    const groups = new Map<string, Extract<Expr, { kind: 'binary' }>[]>();
    for (const c of children) {
      const key = fusibleKey(c);
      if (key !== undefined) (groups.get(key) ?? groups.set(key, []).get(key)!).push(c as BinaryExpr);
    }
    const out: Predicate<E>[] = [];
    const done = new Set<string>();
    for (const c of children) {
      const key = fusibleKey(c);
      const group = key === undefined ? undefined : groups.get(key);
      if (key === undefined || group === undefined || group.length < 2) {
        out.push(this.compile(c));
        continue;
      }
      if (done.has(key)) continue;
      done.add(key);
      out.push(this.fuse(kind, group));
    }
    return out;
  }

  private fuse(kind: 'and' | 'or', group: readonly BinaryExpr[]): Predicate<E> {
    const get = this.field(group[0]!.field);
    const perCheck = group.map((c) => this.binary(c));
    const plain: Test[] = [];
    const lower: Test[] = [];
    // Many `contains` of one `or` on one field: one regex alternation of the
    // literals (one scan of the value instead of one per literal). No 'u' flag:
    // code-unit matching, exactly as String.includes.
    const literals =
      kind === 'or'
        ? group
            .filter((c) => c.op === 'contains' && c.value.kind === 'value')
            .map((c) => (c.value as { value: string }).value)
        : [];
    if (literals.length >= 4) {
      const re = new RegExp(literals.map(escapeRegExp).join('|'));
      plain.push((x) => re.test(str(x)));
    }
    for (const c of group) {
      if (literals.length >= 4 && c.op === 'contains' && c.value.kind === 'value') continue;
      if (c.value.kind === 'list') plain.push(this.listTest(c.op, c.value.values));
      else if (c.value.kind === 'value' && c.op === 'icontains') {
        const lv = c.value.value.toLowerCase();
        lower.push((x) => (x as string).includes(lv));
      } else if (c.value.kind === 'value') plain.push(this.scalarTest(c.op, c.value.value, c));
    }
    const onArray = (ev: E): boolean => {
      if (kind === 'or') {
        for (const p of perCheck) if (p(ev)) return true;
        return false;
      }
      for (const p of perCheck) if (!p(ev)) return false;
      return true;
    };
    if (kind === 'or') {
      return (ev) => {
        const x = get(ev);
        if (x === undefined || x === null) return false;
        if (typeof x === 'object') return onArray(ev);
        for (let i = 0; i < plain.length; i++) if (plain[i]!(x)) return true;
        if (lower.length === 0) return false;
        const l = str(x).toLowerCase();
        for (let i = 0; i < lower.length; i++) if (lower[i]!(l)) return true;
        return false;
      };
    }
    return (ev) => {
      const x = get(ev);
      if (x === undefined || x === null) return false;
      if (typeof x === 'object') return onArray(ev);
      for (let i = 0; i < plain.length; i++) if (!plain[i]!(x)) return false;
      if (lower.length === 0) return true;
      const l = str(x).toLowerCase();
      for (let i = 0; i < lower.length; i++) if (!lower[i]!(l)) return false;
      return true;
    };
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>): Predicate<E> {
    const get = this.field(e.field);
    const { op, value } = e;
    if (value.kind === 'value') return this.withValue(get, op, value.value, e);
    if (value.kind === 'list') return this.withList(get, op, value.values, e);
    if (value.kind === 'listref')
      throw compileError(e, value.pos, `unresolved list '${value.name}'`, this.opts);
    return this.withField(get, op, this.field(value), e);
  }

  private scalarTest(op: string, v: string, node: Expr): Test {
    const n = numeric(v);
    switch (op) {
      case '=':
      case '==':
        return (x) =>
          typeof x === 'string'
            ? x === v
            : typeof x === 'number' && !Number.isNaN(n)
              ? x === n
              : str(x) === v;
      case '!=':
        return (x) =>
          !(typeof x === 'string'
            ? x === v
            : typeof x === 'number' && !Number.isNaN(n)
              ? x === n
              : str(x) === v);
      case '<':
        return (x) => (typeof x === 'number' ? x : numeric(str(x))) < n;
      case '<=':
        return (x) => (typeof x === 'number' ? x : numeric(str(x))) <= n;
      case '>':
        return (x) => (typeof x === 'number' ? x : numeric(str(x))) > n;
      case '>=':
        return (x) => (typeof x === 'number' ? x : numeric(str(x))) >= n;
      case 'contains':
        return (x) => str(x).includes(v);
      case 'icontains': {
        const lv = v.toLowerCase();
        return (x) => str(x).toLowerCase().includes(lv);
      }
      case 'startswith':
        return (x) => str(x).startsWith(v);
      case 'endswith':
        return (x) => str(x).endsWith(v);
      case 'bcontains':
      case 'bstartswith': {
        const bin = hexToBinary(v);
        if (bin === null)
          throw compileError(node, node.pos, `${op} needs a hex string, got '${v}'`, this.opts);
        return op === 'bcontains'
          ? (x) => Buffer.from(str(x), 'utf8').toString('latin1').includes(bin)
          : (x) => Buffer.from(str(x), 'utf8').toString('latin1').startsWith(bin);
      }
      case 'glob':
      case 'iglob': {
        const re = globToRegExp(v, op === 'iglob');
        return (x) => re.test(str(x));
      }
      case 'regex': {
        let re: RegExp;
        try {
          re = new RegExp(`^(?:${v})$`, 'u');
        } catch (err) {
          throw compileError(node, node.pos, `invalid regex '${v}': ${(err as Error).message}`, this.opts);
        }
        return (x) => re.test(str(x));
      }
      case 'in':
      case 'intersects':
      case 'pmatch':
        return this.listTest(op, [v]);
      default:
        throw compileError(node, node.pos, `unsupported operator '${op}'`, this.opts);
    }
  }

  private listTest(op: string, values: readonly string[]): Test {
    if (op === 'pmatch') {
      const m = pathPrefixMatcher(values);
      return (x) => m(str(x));
    }
    const set = new Set(values);
    return (x) => set.has(typeof x === 'string' ? x : String(x));
  }

  private withValue(get: Getter<E>, op: string, v: string, node: Expr): Predicate<E> {
    if (['<', '<=', '>', '>='].includes(op) && Number.isNaN(numeric(v)))
      throw compileError(node, node.pos, `operator '${op}' needs a number, got '${v}'`, this.opts);
    const test = this.scalarTest(op, v, node);
    const negated = op === '!=';
    // `!=` on a list: no element equals. Other operators: some element matches.
    return (ev) => {
      const x = get(ev);
      if (x === undefined || x === null) return false;
      if (typeof x !== 'object') return test(x);
      if (x.length === 0) return false;
      if (negated) {
        for (const el of x) if (el !== null && !test(el)) return false;
        return true;
      }
      for (const el of x) if (el !== null && test(el)) return true;
      return false;
    };
  }

  private withList(get: Getter<E>, op: string, values: readonly string[], node: Expr): Predicate<E> {
    if (op !== 'in' && op !== 'intersects' && op !== 'pmatch') {
      // A list after a scalar operator cannot come from the parser; exceptions expand to `or` instead.
      throw compileError(node, node.pos, `operator '${op}' does not take a list`, this.opts);
    }
    const test = this.listTest(op, values);
    const every = op === 'in';
    return (ev) => {
      const x = get(ev);
      if (x === undefined || x === null) return false;
      if (typeof x !== 'object') return test(x);
      if (x.length === 0) return false;
      if (every) {
        for (const el of x) if (el === null || !test(el)) return false;
        return true;
      }
      for (const el of x) if (el !== null && test(el)) return true;
      return false;
    };
  }

  /** Right side is another field (`val(f)` or a transformer): compare the two values as text/number. */
  private withField(get: Getter<E>, op: string, other: Getter<E>, node: Expr): Predicate<E> {
    return (ev) => {
      const x = get(ev);
      const y = other(ev);
      if (x === undefined || x === null || y === undefined || y === null) return false;
      const ys = Array.isArray(y) ? y.filter((v): v is Scalar => v !== null).map(str) : [str(y as Scalar)];
      const test =
        op === 'in' || op === 'intersects' || op === 'pmatch'
          ? this.listTest(op, ys)
          : ys.length === 1
            ? this.scalarTest(op, ys[0]!, node)
            : () => false;
      const xs = Array.isArray(x) ? x : [x];
      return xs.some((el) => el !== null && test(el as Scalar));
    };
  }
}

/** Compile a fully resolved condition (no macro identifiers, no list references left). */
export function compileCondition<E>(
  expr: Expr,
  source: FieldSource<E>,
  opts: CompileOptions = {},
): Predicate<E> {
  return new ConditionCompiler(source, opts).compile(expr);
}

/**
 * The fusion key of a check on a plain field with a constant operand (a value
 * or a literal list): `name[arg]`. Undefined for anything else. A numeric
 * operator needs its operand checked at compile time (kept on the per-check path
 * too, so errors are reported the same way).
 */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function fusibleKey(e: Expr): string | undefined {
  if (e.kind !== 'binary' || e.field.kind !== 'field') return undefined;
  if (e.value.kind !== 'value' && e.value.kind !== 'list') return undefined;
  if (e.value.kind === 'list' && e.op !== 'in' && e.op !== 'intersects' && e.op !== 'pmatch')
    return undefined;
  return e.field.arg === undefined ? e.field.name : `${e.field.name}[${e.field.arg}]`;
}

export type { Operand };
