/**
 * Terms of a synthesized condition and how each may be generalized: an exact
 * value set (`f = v`, `f in (…)`) can become a path prefix, an official list
 * that contains every value (`proc.name in (shell_binaries)`), an official
 * macro that is a test on that field alone and holds on every incident event
 * (`shell_procs`, `spawned_process`, `sensitive_files`), or be dropped. Every
 * term is compiled through the real parser, resolver and evaluator, so what
 * the search measures is what the final rule does.
 */
import type { Expr, FieldOperand, FieldRef } from '../ast.ts';
import { compileCondition, type Predicate } from '../evaluate.ts';
import { syscallFields, type OutputFields } from '../fields/syscall.ts';
import type { RulesModel } from '../model.ts';
import { defaultLocator, parseCondition } from '../parser.ts';
import { printCondition } from '../print.ts';
import { Resolver } from '../resolve.ts';

export type TermKind = 'exact' | 'prefix' | 'list' | 'macro' | 'drop';

export interface Term {
  /** The output field the term tests (`proc.aname[2]`). */
  field: string;
  kind: TermKind;
  /** Falco condition text of the term. */
  text: string;
  /** Higher = more general; a step only moves a term to a higher rank. */
  rank: number;
  test: Predicate<OutputFields>;
}

/** How much a field is worth keeping when dropping it costs nothing (low = dropped first). */
export function keepWeight(field: string): number {
  const w: [RegExp, number][] = [
    [/^evt\.type$/, 100],
    [/^proc\.name$/, 90],
    [/^(proc\.exepath|fd\.name|evt\.arg\.filename)$/, 85],
    [/^fd\.(sip|rip|snet|rnet|rport|sport|l4proto)$/, 80],
    [/^proc\.pname$/, 75],
    [/^(container\.image\.repository|ka\.user\.name|ka\.verb)$/, 70],
    [/^ka\.target\./, 65],
    [/^(k8s\.ns\.name|container\.name)$/, 60],
    [/^(evt\.arg\.|ka\.)/, 55],
    [/^(proc\.aname|proc\.cwd)/, 40],
    [/^user\./, 35],
    [/^proc\.cmdline$/, 30],
  ];
  for (const [re, n] of w) if (re.test(field)) return n;
  return 20;
}

function fieldRef(key: string): FieldRef {
  const m = /^([^[]+)\[(.*)\]$/.exec(key);
  return m === null
    ? { kind: 'field', name: key, pos: 0 }
    : { kind: 'field', name: m[1]!, arg: m[2]!, pos: 0 };
}

interface MacroInfo {
  name: string;
  /** Fields the macro reads that events actually carry. */
  observed: Set<string>;
  test: Predicate<OutputFields>;
}

function fieldsOf(e: Expr, out: Set<string>): void {
  const add = (f: FieldOperand): void => {
    let x: FieldOperand = f;
    while (x.kind === 'transformer') x = x.arg;
    out.add(x.arg === undefined ? x.name : `${x.name}[${x.arg}]`);
  };
  switch (e.kind) {
    case 'and':
    case 'or':
      for (const c of e.children) fieldsOf(c, out);
      return;
    case 'not':
      fieldsOf(e.child, out);
      return;
    case 'unary':
      add(e.field);
      return;
    case 'binary':
      add(e.field);
      if (e.value.kind === 'field' || e.value.kind === 'transformer') add(e.value);
      return;
    default:
      return;
  }
}

/** Terms over a base rules model (its macros and lists can be reused). */
export class TermFactory {
  private readonly resolver: Resolver;
  private readonly lists: { name: string; items: Set<string> }[] = [];
  private readonly macros: MacroInfo[] = [];

  /**
   * @param observedFields every field name some event carries: a macro is
   *   reusable for a field when that is the only observed field it reads.
   */
  constructor(
    private readonly base: RulesModel,
    observedFields: ReadonlySet<string>,
  ) {
    this.resolver = new Resolver(base);
    for (const name of base.lists.keys()) {
      const items = this.resolver.listItemsOf(name);
      if (items.length > 0 && items.length <= 500) this.lists.push({ name, items: new Set(items) });
    }
    for (const name of base.macros.keys()) {
      const before = this.resolver.issues.length;
      const ast = this.resolver.macroAst(name);
      if (ast === null || ast === undefined) continue;
      const expr = this.resolver.expand(ast.expr, ast.locate, '', [name]);
      if (this.resolver.issues.length > before) continue;
      const all = new Set<string>();
      fieldsOf(expr, all);
      const observed = new Set([...all].filter((f) => observedFields.has(f)));
      if (observed.size !== 1) continue;
      try {
        this.macros.push({ name, observed, test: compileCondition(expr, syscallFields) });
      } catch {
        // A macro this evaluator cannot compile is simply not offered.
        continue;
      }
    }
  }

  /** Compile a condition text against the base model's macros and lists. */
  compile(text: string): Predicate<OutputFields> {
    const ast = parseCondition(text);
    const resolver = new Resolver(this.base);
    const expr = resolver.expand(ast, defaultLocator(text), text, []);
    if (resolver.issues.length > 0) throw new Error(resolver.issues[0]!.message);
    return compileCondition(expr, syscallFields);
  }

  private term(field: string, kind: TermKind, expr: Expr | string, rank: number): Term {
    const text = typeof expr === 'string' ? expr : printCondition(expr);
    return { field, kind, text, rank, test: this.compile(text) };
  }

  /** `f = v` or `f in (v…)`: true on exactly the observed values. */
  exact(field: string, values: readonly string[]): Term {
    const f = fieldRef(field);
    const expr: Expr =
      values.length === 1
        ? { kind: 'binary', field: f, op: '=', value: { kind: 'value', value: values[0]!, pos: 0 }, pos: 0 }
        : {
            kind: 'binary',
            field: f,
            op: 'in',
            value: { kind: 'list', values: [...values], pos: 0 },
            pos: 0,
          };
    return this.term(field, 'exact', expr, 0);
  }

  /** The generalizations of an exact term, given the incident events of its group. */
  generalizations(field: string, values: readonly string[], groupFields: readonly OutputFields[]): Term[] {
    const out: Term[] = [];
    const f = fieldRef(field);
    // Path prefixes: each ancestor directory of the values' common directory.
    if (values.every((v) => v.startsWith('/'))) {
      let common = values[0]!;
      for (const v of values) while (!v.startsWith(common)) common = common.slice(0, -1);
      let dir = common.slice(0, common.lastIndexOf('/') + 1);
      let depth = dir.split('/').length - 2;
      while (dir.length > 1 && depth > 0) {
        const expr: Expr = {
          kind: 'binary',
          field: f,
          op: 'startswith',
          value: { kind: 'value', value: dir, pos: 0 },
          pos: 0,
        };
        out.push(this.term(field, 'prefix', expr, 1 + 0.5 / depth));
        dir = dir.slice(0, dir.slice(0, -1).lastIndexOf('/') + 1);
        depth--;
      }
    }
    // Official lists holding every value (smallest first: the closest generalization).
    const lists = this.lists
      .filter((l) => values.every((v) => l.items.has(v)))
      .sort((a, b) => a.items.size - b.items.size)
      .slice(0, 4);
    for (const l of lists) {
      const expr: Expr = {
        kind: 'binary',
        field: f,
        op: 'in',
        value: { kind: 'list', values: [l.name], pos: 0 },
        pos: 0,
      };
      out.push(this.term(field, 'list', expr, 2 + 0.5 / l.items.size));
    }
    // Official macros that test this field alone and hold on every incident event.
    for (const m of this.macros) {
      if (!m.observed.has(field)) continue;
      if (!groupFields.every((ev) => m.test(ev))) continue;
      out.push({ field, kind: 'macro', text: m.name, rank: 3, test: m.test });
    }
    return out;
  }
}
