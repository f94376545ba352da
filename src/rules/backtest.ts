/**
 * Backtester: runs ONE candidate rule (compiled once) over normalized events —
 * typically the event store's `iterate({fromMs, toMs, workloadKey})` — and
 * reports its hits on the incident's events versus everything else, and
 * precision/recall against labels when labels are given.
 *
 * Syscall rules see an event's `fields` (its Falco output_fields); a k8s_audit
 * rule sees the same flat map (the store keeps alerts, not raw audit events).
 */
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import type { Expr } from './ast.ts';
import { compileCondition, type Predicate } from './evaluate.ts';
import { syscallFields, type OutputFields } from './fields/syscall.ts';
import { loadRules } from './loader.ts';
import type { RuleDef } from './model.ts';
import { Resolver } from './resolve.ts';
import type { RulesIssue } from './errors.ts';

export interface BacktestOptions {
  /** Ids of the incident's events: hits on them are "incident hits", the rest "other hits". */
  incidentEventIds?: ReadonlySet<string>;
  /**
   * The incident's events by predicate (e.g. object identity): used instead of
   * ids when given. Ids are derived lazily by the normalizer (a hash per event),
   * so a backtest that needs none of them reads no id except for the examples.
   */
  isIncident?: (event: NormalizedEvent) => boolean;
  /** Ground truth per event id (true = should fire); when given, precision and recall are reported. */
  labels?: ReadonlyMap<string, boolean>;
  /** Ground truth per event (undefined = unlabelled); used instead of `labels` when given. */
  labelOf?: (event: NormalizedEvent) => boolean | undefined;
  /**
   * The rule's source (`syscall`, `k8s_audit`): events of another source are
   * not evaluated (never hits), as in Falco where a rule sees only its source.
   */
  source?: string;
  /** Keep at most this many example ids of hits outside the incident (default 20). */
  maxExamples?: number;
}

export interface BacktestReport {
  rule: string;
  events: number;
  hits: number;
  incident: { events: number; hits: number; missed: number };
  other: { events: number; hits: number; hitRate: number; exampleIds: string[] };
  /** Present when labels were given: over the events that had a label. */
  labelled?: {
    events: number;
    truePositives: number;
    falsePositives: number;
    falseNegatives: number;
    precision: number;
    recall: number;
  };
  elapsedMs: number;
  eventsPerSecond: number;
}

export interface CandidateRule {
  name: string;
  /** The rule's source as declared (default `syscall`). */
  source: string;
  matches: Predicate<OutputFields>;
  expr: Expr;
}

/**
 * Compile a candidate rule given as Falco YAML (one rule, optionally with its
 * own macros/lists) against a base of rules files whose macros and lists it may
 * reuse (e.g. the official rules). Throws RULES_COMPILE with every issue when invalid.
 */
export function compileCandidate(
  candidateYaml: string,
  base: readonly { file: string; text: string }[] = [],
  ruleName?: string,
): CandidateRule {
  const baseModel = loadRules(base);
  const baseRules = new Set(baseModel.rules.keys());
  const model = loadRules([{ file: '<candidate>', text: candidateYaml }], baseModel);
  const issues: RulesIssue[] = model.issues.filter((i) => i.file === '<candidate>');
  const candidates = [...model.rules.values()].filter(
    (r) => !baseRules.has(r.name) || r.loc.file === '<candidate>',
  );
  const def: RuleDef | undefined =
    ruleName !== undefined ? model.rules.get(ruleName) : candidates[candidates.length - 1];
  if (issues.length === 0 && def === undefined) {
    issues.push({
      file: '<candidate>',
      line: 1,
      column: 1,
      message: 'the candidate defines no rule',
      text: '',
    });
  }
  const resolver = new Resolver(model);
  const resolved = def === undefined ? null : resolver.resolveRule(def);
  issues.push(...resolver.issues);
  if (issues.length > 0 || resolved === null) throw invalid(issues);
  try {
    const matches = compileCondition(resolved.expr, syscallFields, { locators: resolver.locators });
    return { name: resolved.def.name, source: resolved.def.source, matches, expr: resolved.expr };
  } catch (err) {
    if (err instanceof FalconerError && err.code === 'RULES_COMPILE') {
      const c = err.context as unknown as RulesIssue;
      throw invalid([{ file: c.file, line: c.line, column: c.column, message: c.message, text: c.text }]);
    }
    throw err;
  }
}

function invalid(issues: RulesIssue[]): FalconerError {
  const first = issues[0];
  const where = first === undefined ? '' : `${first.file}:${first.line}:${first.column}: ${first.message}`;
  return new FalconerError(
    'RULES_COMPILE',
    `candidate rule is invalid (${issues.length} issue(s)) ${where}`,
    {
      issues,
    },
  );
}

export function backtest(
  rule: Pick<CandidateRule, 'name' | 'matches'>,
  events: Iterable<NormalizedEvent>,
  opts: BacktestOptions = {},
): BacktestReport {
  // Read an event's id only when a lookup by id is really needed (see isIncident).
  const incidentIds = opts.incidentEventIds;
  const isIncident: (ev: NormalizedEvent) => boolean =
    opts.isIncident ??
    (incidentIds !== undefined && incidentIds.size > 0 ? (ev) => incidentIds.has(ev.id) : () => false);
  const labelMap = opts.labels;
  const labelOf: ((ev: NormalizedEvent) => boolean | undefined) | undefined =
    opts.labelOf ??
    (labelMap === undefined
      ? undefined
      : labelMap.size === 0
        ? () => undefined
        : (ev) => labelMap.get(ev.id));
  const maxExamples = opts.maxExamples ?? 20;
  const source = opts.source;
  const report: BacktestReport = {
    rule: rule.name,
    events: 0,
    hits: 0,
    incident: { events: 0, hits: 0, missed: 0 },
    other: { events: 0, hits: 0, hitRate: 0, exampleIds: [] },
    elapsedMs: 0,
    eventsPerSecond: 0,
  };
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let labelled = 0;
  const started = performance.now();
  for (const ev of events) {
    report.events++;
    const hit = (source === undefined || ev.source === source) && rule.matches(ev.fields);
    if (hit) report.hits++;
    if (isIncident(ev)) {
      report.incident.events++;
      if (hit) report.incident.hits++;
    } else {
      report.other.events++;
      if (hit) {
        report.other.hits++;
        if (report.other.exampleIds.length < maxExamples) report.other.exampleIds.push(ev.id);
      }
    }
    const label = labelOf?.(ev);
    if (label !== undefined) {
      labelled++;
      if (hit && label) tp++;
      else if (hit) fp++;
      else if (label) fn++;
    }
  }
  report.elapsedMs = performance.now() - started;
  report.eventsPerSecond = report.elapsedMs > 0 ? Math.round((report.events * 1000) / report.elapsedMs) : 0;
  report.incident.missed = report.incident.events - report.incident.hits;
  report.other.hitRate = report.other.events === 0 ? 0 : report.other.hits / report.other.events;
  if (labelOf !== undefined) {
    report.labelled = {
      events: labelled,
      truePositives: tp,
      falsePositives: fp,
      falseNegatives: fn,
      precision: tp + fp === 0 ? 0 : tp / (tp + fp),
      recall: tp + fn === 0 ? 0 : tp / (tp + fn),
    };
  }
  return report;
}
