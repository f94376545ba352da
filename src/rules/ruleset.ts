/**
 * A compiled rule set: load → resolve → compile once, then match events.
 * Rules are grouped by source; only enabled rules are matched. Compile problems
 * are reported as located issues, like load and resolve problems.
 */
import { isFalconerError } from '../errors.ts';
import type { Expr } from './ast.ts';
import type { RulesIssue } from './errors.ts';
import { compileCondition, type Predicate } from './evaluate.ts';
import { k8sAuditFields, type AuditEvent } from './fields/k8s-audit.ts';
import { syscallFields, type OutputFields } from './fields/syscall.ts';
import type { FieldSource } from './fields/types.ts';
import { loadRules, type RulesSource } from './loader.ts';
import type { RuleDef, RulesModel } from './model.ts';
import { resolveRules } from './resolve.ts';

export interface CompiledRule<E> {
  def: RuleDef;
  expr: Expr;
  matches: Predicate<E>;
}

export interface SourceTypes {
  syscall: OutputFields;
  k8s_audit: AuditEvent;
}
export type RuleSource = keyof SourceTypes;
export const RULE_SOURCES: readonly RuleSource[] = ['syscall', 'k8s_audit'];

export const FIELD_SOURCES: { [S in RuleSource]: FieldSource<SourceTypes[S]> } = {
  syscall: syscallFields,
  k8s_audit: k8sAuditFields,
};

export interface RuleSet {
  model: RulesModel;
  /** Every problem found loading, resolving and compiling, in file order. */
  issues: RulesIssue[];
  syscall: CompiledRule<OutputFields>[];
  k8s_audit: CompiledRule<AuditEvent>[];
  /** Names of rules whose source this evaluator does not know (loaded, never matched). */
  otherSources: string[];
}

function compileIssue(err: unknown): RulesIssue | null {
  if (!isFalconerError(err, 'RULES_COMPILE')) return null;
  const c = err.context as Record<string, unknown>;
  return {
    file: String(c.file),
    line: Number(c.line),
    column: Number(c.column),
    message: String(c.message),
    text: String(c.text ?? ''),
  };
}

export function compileModel(model: RulesModel): RuleSet {
  const resolution = resolveRules(model);
  const set: RuleSet = {
    model,
    issues: [...model.issues, ...resolution.issues],
    syscall: [],
    k8s_audit: [],
    otherSources: [],
  };
  for (const { def, expr } of resolution.rules) {
    const source = def.source as RuleSource;
    if (!RULE_SOURCES.includes(source)) {
      set.otherSources.push(def.name);
      continue;
    }
    try {
      const matches = compileCondition(expr, FIELD_SOURCES[source] as FieldSource<unknown>, {
        locators: resolution.locators,
      });
      const rule = { def, expr, matches };
      if (def.enabled) (set[source] as CompiledRule<unknown>[]).push(rule);
    } catch (err) {
      const issue = compileIssue(err);
      if (issue === null) throw err;
      set.issues.push({ ...issue, message: `rule '${def.name}': ${issue.message}` });
    }
  }
  set.issues.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
  return set;
}

export function compileRuleSources(sources: readonly RulesSource[]): RuleSet {
  return compileModel(loadRules(sources));
}

/** Names of the enabled rules of a source that match an event, in rule order. */
export function matchEvent<S extends RuleSource>(set: RuleSet, source: S, event: SourceTypes[S]): string[] {
  const rules = set[source] as CompiledRule<SourceTypes[S]>[];
  const out: string[] = [];
  for (const r of rules) if (r.matches(event)) out.push(r.def.name);
  return out;
}
