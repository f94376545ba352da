/**
 * Resolves a loaded rules model into one self-contained condition AST per
 * rule, as Falco's rule compiler does: macros inlined (cycles and undefined
 * macros are located errors), list names inside `(…)` operands replaced by the
 * list's items (lists may name lists; cycles are errors), `in list_name`
 * resolved, and exceptions compiled into `(condition) and not (exception or …)`.
 */
import type { Expr, FieldOperand, ListOperand, Operand } from './ast.ts';
import { LIST_OPERATORS } from './ast.ts';
import { excerpt, type RulesIssue, type SourceLocation } from './errors.ts';
import { isFalconerError } from '../errors.ts';
import {
  joinCondition,
  type ConditionPart,
  type ExceptionDef,
  type RuleDef,
  type RulesModel,
} from './model.ts';
import { parseCondition, type LocationMapper } from './parser.ts';

export interface ResolvedRule {
  def: RuleDef;
  expr: Expr;
}

export interface Resolution {
  rules: ResolvedRule[];
  issues: RulesIssue[];
  /** Where each node of the resolved ASTs came from (for locating compile errors). */
  locators: WeakMap<object, LocationMapper>;
}

const LIST_OPS = new Set<string>(LIST_OPERATORS);

export function syntaxIssue(err: unknown): RulesIssue | null {
  if (!isFalconerError(err, 'RULES_CONDITION_SYNTAX')) return null;
  const c = err.context as Partial<RulesIssue>;
  return {
    file: String(c.file),
    line: Number(c.line),
    column: Number(c.column),
    message: String(c.message),
    text: String(c.text),
  };
}

export class Resolver {
  readonly issues: RulesIssue[] = [];
  readonly locators = new WeakMap<object, LocationMapper>();
  private readonly macroAsts = new Map<string, { expr: Expr; locate: LocationMapper } | null>();
  private readonly listItems = new Map<string, string[]>();

  constructor(private readonly model: RulesModel) {}

  private issueAt(locate: LocationMapper, pos: number, text: string, message: string): void {
    const loc: SourceLocation = locate(pos);
    this.issues.push({ ...loc, message, text: excerpt(text, pos) });
  }

  /** Parse a condition made of parts; records a located issue and returns null when it does not parse. */
  parse(parts: readonly ConditionPart[]): { expr: Expr; locate: LocationMapper; text: string } | null {
    const { text, locate } = joinCondition(parts);
    try {
      return { expr: parseCondition(text, { locate }), locate, text };
    } catch (err) {
      const issue = syntaxIssue(err);
      if (issue === null) throw err;
      this.issues.push(issue);
      return null;
    }
  }

  /** The items of a list with nested list names expanded. */
  listItemsOf(name: string, stack: string[] = []): string[] {
    const cached = this.listItems.get(name);
    if (cached !== undefined) return cached;
    const def = this.model.lists.get(name);
    if (def === undefined) return [];
    if (stack.includes(name)) {
      this.issues.push({ ...def.loc, message: `list cycle: ${[...stack, name].join(' -> ')}`, text: name });
      return [];
    }
    const out: string[] = [];
    for (const item of def.items) {
      if (item !== name && this.model.lists.has(item)) out.push(...this.listItemsOf(item, [...stack, name]));
      else out.push(item);
    }
    this.listItems.set(name, out);
    return out;
  }

  macroAst(name: string): { expr: Expr; locate: LocationMapper } | null | undefined {
    if (this.macroAsts.has(name)) return this.macroAsts.get(name);
    const def = this.model.macros.get(name);
    if (def === undefined) return undefined;
    const parsed = this.parse(def.condition);
    const entry = parsed === null ? null : { expr: parsed.expr, locate: parsed.locate };
    this.macroAsts.set(name, entry);
    return entry;
  }

  private expandList(op: ListOperand, locate: LocationMapper): ListOperand {
    const values: string[] = [];
    for (const v of op.values) {
      if (this.model.lists.has(v)) values.push(...this.listItemsOf(v));
      else values.push(v);
    }
    const out: ListOperand = { kind: 'list', values, pos: op.pos };
    this.locators.set(out, locate);
    return out;
  }

  private expandOperand(v: Operand, locate: LocationMapper, text: string): Operand {
    if (v.kind === 'list') return this.expandList(v, locate);
    if (v.kind === 'listref') {
      if (!this.model.lists.has(v.name)) {
        this.issueAt(locate, v.pos, text, `undefined list '${v.name}'`);
        return { kind: 'list', values: [], pos: v.pos };
      }
      return this.expandList({ kind: 'list', values: [v.name], pos: v.pos }, locate);
    }
    if (v.kind !== 'value') this.markField(v, locate);
    return v;
  }

  private markField(f: FieldOperand, locate: LocationMapper): void {
    this.locators.set(f, locate);
    if (f.kind === 'transformer') this.markField(f.arg, locate);
  }

  /** Inline macros and expand lists; `stack` holds the macros being expanded (cycle detection). */
  expand(e: Expr, locate: LocationMapper, text: string, stack: string[]): Expr {
    switch (e.kind) {
      case 'and':
      case 'or':
        return {
          kind: e.kind,
          children: e.children.map((c) => this.expand(c, locate, text, stack)),
          pos: e.pos,
        };
      case 'not':
        return { kind: 'not', child: this.expand(e.child, locate, text, stack), pos: e.pos };
      case 'ident': {
        if (stack.includes(e.name)) {
          this.issueAt(locate, e.pos, text, `macro cycle: ${[...stack, e.name].join(' -> ')}`);
          return { kind: 'or', children: [], pos: e.pos };
        }
        const m = this.macroAst(e.name);
        if (m === undefined) {
          this.issueAt(locate, e.pos, text, `undefined macro '${e.name}'`);
          return { kind: 'or', children: [], pos: e.pos };
        }
        if (m === null) return { kind: 'or', children: [], pos: e.pos }; // its syntax error is already reported
        const def = this.model.macros.get(e.name)!;
        return this.expand(m.expr, m.locate, joinCondition(def.condition).text, [...stack, e.name]);
      }
      case 'unary':
        this.markField(e.field, locate);
        return e;
      case 'binary': {
        this.markField(e.field, locate);
        const value =
          LIST_OPS.has(e.op) || e.value.kind !== 'value'
            ? this.expandOperand(e.value, locate, text)
            : e.value;
        const out: Expr = { ...e, value };
        this.locators.set(out, locate);
        return out;
      }
    }
  }

  /** Exceptions as Falco compiles them: `not (tuple or tuple …)`, each tuple an `and` of field checks. */
  exceptionsExpr(rule: RuleDef): Expr | null {
    const alternatives: Expr[] = [];
    for (const ex of rule.exceptions) {
      const fieldNames = typeof ex.fields === 'string' ? [ex.fields] : ex.fields;
      const fields: FieldOperand[] = [];
      let ok = true;
      for (const name of fieldNames) {
        const f = this.exceptionField(name, ex);
        if (f === null) ok = false;
        else fields.push(f);
      }
      if (!ok) continue;
      if (typeof ex.fields === 'string') {
        const comp = typeof ex.comps === 'string' ? ex.comps : 'in';
        const values = ex.values.map(String);
        if (values.length === 0) continue;
        const check = this.check(fields[0]!, comp, values, ex);
        if (check !== null) alternatives.push(check);
        continue;
      }
      const comps = Array.isArray(ex.comps) ? ex.comps.map(String) : fieldNames.map(() => '=');
      for (const tuple of ex.values) {
        if (!Array.isArray(tuple) || tuple.length !== fields.length) {
          this.issues.push({
            ...ex.loc,
            message: `exception '${ex.name}' of rule '${rule.name}': each value must be a list of ${fields.length} items`,
            text: excerpt(JSON.stringify(tuple) ?? ''),
          });
          continue;
        }
        const checks: Expr[] = [];
        tuple.forEach((v: unknown, i) => {
          const c = this.check(fields[i]!, comps[i]!, Array.isArray(v) ? v.map(String) : String(v), ex);
          if (c !== null) checks.push(c);
        });
        if (checks.length === fields.length)
          alternatives.push(checks.length === 1 ? checks[0]! : { kind: 'and', children: checks, pos: 0 });
      }
    }
    if (alternatives.length === 0) return null;
    return {
      kind: 'not',
      child: alternatives.length === 1 ? alternatives[0]! : { kind: 'or', children: alternatives, pos: 0 },
      pos: 0,
    };
  }

  private exceptionField(name: string, ex: ExceptionDef): FieldOperand | null {
    try {
      const e = parseCondition(`${name} exists`);
      if (e.kind === 'unary') return e.field;
    } catch {
      // reported below
    }
    this.issues.push({
      ...ex.loc,
      message: `exception '${ex.name}': invalid field '${name}'`,
      text: excerpt(name),
    });
    return null;
  }

  private check(field: FieldOperand, comp: string, value: string | string[], ex: ExceptionDef): Expr | null {
    const locate: LocationMapper = () => ex.loc;
    this.markField(field, locate);
    let probe: Expr;
    try {
      // Validate the operator through the parser itself (same operator set as conditions).
      probe = parseCondition(`x.y ${comp} ${LIST_OPS.has(comp) ? '()' : '0'}`);
    } catch {
      this.issues.push({
        ...ex.loc,
        message: `exception '${ex.name}': invalid comparison operator '${comp}'`,
        text: comp,
      });
      return null;
    }
    if (probe.kind !== 'binary') return null;
    const op = probe.op;
    const values = Array.isArray(value) ? value : [value];
    if (LIST_OPS.has(op)) {
      const list = this.expandList({ kind: 'list', values, pos: 0 }, locate);
      const out: Expr = { kind: 'binary', field, op, value: list, pos: 0 };
      this.locators.set(out, locate);
      return out;
    }
    const alts: Expr[] = values.map((v) => ({
      kind: 'binary',
      field,
      op,
      value: { kind: 'value', value: v, pos: 0 },
      pos: 0,
    }));
    for (const a of alts) this.locators.set(a, locate);
    return alts.length === 1 ? alts[0]! : { kind: 'or', children: alts, pos: 0 };
  }

  resolveRule(rule: RuleDef): ResolvedRule | null {
    const parsed = this.parse(rule.condition);
    if (parsed === null) return null;
    const before = this.issues.length;
    let expr = this.expand(parsed.expr, parsed.locate, parsed.text, []);
    const exc = this.exceptionsExpr(rule);
    if (exc !== null) expr = { kind: 'and', children: [expr, exc], pos: 0 };
    return this.issues.length > before ? null : { def: rule, expr };
  }
}

/** Resolve every rule of a model (enabled or not: a disabled rule is still checked). */
export function resolveRules(model: RulesModel): Resolution {
  const r = new Resolver(model);
  const rules: ResolvedRule[] = [];
  for (const def of model.rules.values()) {
    const resolved = r.resolveRule(def);
    if (resolved !== null) rules.push(resolved);
  }
  // Macros and lists nobody uses are still checked for syntax and cycles.
  for (const def of model.macros.values()) r.macroAst(def.name);
  for (const name of model.lists.keys()) r.listItemsOf(name);
  return { rules, issues: r.issues, locators: r.locators };
}
