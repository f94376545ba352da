/**
 * Scores a proposed rules YAML the way a reviewer needs it scored: is it valid
 * Falco (loader, parser, resolver, field names of its source), does it fire on
 * every incident event, and how often does it fire on the baseline. Shared by
 * the offline synthesizer and the LLM repair loop.
 */
import { FalconerError } from '../../errors.ts';
import type { NormalizedEvent } from '../../events/types.ts';
import { backtest, compileCandidate, type BacktestReport, type CandidateRule } from '../backtest.ts';
import type { RulesIssue } from '../errors.ts';
import { compileCondition } from '../evaluate.ts';
import { k8sAuditFields } from '../fields/k8s-audit.ts';
import type { OutputFields } from '../fields/syscall.ts';
import { loadRules, type RulesSource } from '../loader.ts';

export const DEFAULT_MAX_BASELINE_RATE = 0.001;
export const CANDIDATE_FILE = '<candidate>';

/** Events to test against, without the incident's own (by identity or by time+rule+output). */
export interface BaselineSet {
  events: NormalizedEvent[];
  fields: OutputFields[];
  sources: string[];
}

export type BaselineInput = Iterable<NormalizedEvent> | (() => Iterable<NormalizedEvent>);

const eventKey = (ev: NormalizedEvent): string => `${ev.timeMs}\u0000${ev.rule}\u0000${ev.output}`;

export function materializeBaseline(
  baseline: BaselineInput,
  incident: readonly NormalizedEvent[],
): BaselineSet {
  const same = new Set<NormalizedEvent>(incident);
  const keys = new Set(incident.map(eventKey));
  // The key is a long string (it holds the output): build it only for an event at an incident
  // event's exact time, not for each of the tens of thousands of baseline events.
  const times = new Set(incident.map((ev) => ev.timeMs));
  const out: BaselineSet = { events: [], fields: [], sources: [] };
  const it = typeof baseline === 'function' ? baseline() : baseline;
  for (const ev of it) {
    if (same.has(ev) || (times.has(ev.timeMs) && keys.has(eventKey(ev)))) continue;
    out.events.push(ev);
    out.fields.push(ev.fields);
    out.sources.push(ev.source);
  }
  return out;
}

export interface ProposalReport {
  valid: boolean;
  issues: RulesIssue[];
  /** Rules of the proposal, in file order. */
  rules: string[];
  incident: { events: number; hits: number; missed: number };
  baseline: { events: number; hits: number; rate: number; maxRate: number; exampleIds: string[] };
  /** One backtest per rule, over incident + baseline (each rule sees its own source). */
  perRule: BacktestReport[];
  /** Valid, fires on every incident event, baseline rate within maxRate. */
  accepted: boolean;
  /** What is wrong, in words an author (or an LLM) can act on. */
  problems: string[];
}

export interface ScoreOptions {
  incidentEvents: readonly NormalizedEvent[];
  baseline: BaselineSet;
  baseRules?: readonly RulesSource[];
  maxBaselineRate?: number;
}

function candidateIssues(err: unknown): RulesIssue[] {
  if (err instanceof FalconerError && err.code === 'RULES_COMPILE') {
    const issues = (err.context as { issues?: RulesIssue[] }).issues;
    if (Array.isArray(issues)) return issues;
    const c = err.context as unknown as RulesIssue;
    return [{ file: c.file, line: c.line, column: c.column, message: c.message, text: c.text ?? '' }];
  }
  throw err;
}

/** Validate and backtest a proposal YAML. Never throws for a bad proposal: the report says why. */
export function scoreProposal(yaml: string, opts: ScoreOptions): ProposalReport {
  const maxRate = opts.maxBaselineRate ?? DEFAULT_MAX_BASELINE_RATE;
  const base = opts.baseRules ?? [];
  const report: ProposalReport = {
    valid: false,
    issues: [],
    rules: [],
    incident: { events: opts.incidentEvents.length, hits: 0, missed: opts.incidentEvents.length },
    baseline: { events: opts.baseline.events.length, hits: 0, rate: 0, maxRate, exampleIds: [] },
    perRule: [],
    accepted: false,
    problems: [],
  };
  const baseNames = new Set(loadRules(base).rules.keys());
  const model = loadRules([{ file: CANDIDATE_FILE, text: yaml }]);
  report.issues.push(...model.issues);
  const names = [...model.rules.values()].filter((r) => r.enabled).map((r) => r.name);
  if (names.length === 0 && report.issues.length === 0)
    report.issues.push({
      file: CANDIDATE_FILE,
      line: 1,
      column: 1,
      message: 'the proposal defines no enabled rule',
      text: '',
    });
  const compiled: CandidateRule[] = [];
  for (const name of names) {
    if (baseNames.has(name)) {
      report.issues.push({
        file: CANDIDATE_FILE,
        line: 1,
        column: 1,
        message: `rule '${name}' has the name of an official rule`,
        text: name,
      });
      continue;
    }
    try {
      const rule = compileCandidate(yaml, base, name);
      // Falco checks field names per source: a k8s_audit rule may only use the k8saudit/json fields.
      if (rule.source === 'k8s_audit') compileCondition(rule.expr, k8sAuditFields);
      else if (rule.source !== 'syscall')
        throw new FalconerError('RULES_COMPILE', `unsupported source '${rule.source}'`, {
          file: CANDIDATE_FILE,
          line: 1,
          column: 1,
          message: `rule '${name}': source '${rule.source}' is not syscall or k8s_audit`,
          text: rule.source,
        });
      compiled.push(rule);
    } catch (err) {
      report.issues.push(...candidateIssues(err));
    }
  }
  report.rules = names;
  report.valid = report.issues.length === 0;
  if (!report.valid) {
    report.problems.push(
      ...report.issues
        .slice(0, 10)
        .map((i) => `invalid: ${i.file}:${i.line}:${i.column}: ${i.message}${i.text ? ` (${i.text})` : ''}`),
    );
    return report;
  }
  const hitOn = (ev: NormalizedEvent): boolean =>
    compiled.some((r) => r.source === ev.source && r.matches(ev.fields));
  const missed: NormalizedEvent[] = [];
  for (const ev of opts.incidentEvents) {
    if (hitOn(ev)) report.incident.hits++;
    else missed.push(ev);
  }
  report.incident.missed = missed.length;
  for (const ev of opts.baseline.events) {
    if (!hitOn(ev)) continue;
    report.baseline.hits++;
    if (report.baseline.exampleIds.length < 10) report.baseline.exampleIds.push(ev.id);
  }
  report.baseline.rate = report.baseline.events === 0 ? 0 : report.baseline.hits / report.baseline.events;
  const incidentSet = new Set<NormalizedEvent>(opts.incidentEvents);
  const all = (): Iterable<NormalizedEvent> => concat(opts.incidentEvents, opts.baseline.events);
  for (const r of compiled)
    report.perRule.push(backtest(r, all(), { source: r.source, isIncident: (ev) => incidentSet.has(ev) }));
  if (missed.length > 0) {
    const ex = missed
      .slice(0, 3)
      .map((ev) => `${ev.source} rule "${ev.rule}" ${JSON.stringify(ev.fields).slice(0, 300)}`);
    report.problems.push(
      `misses ${missed.length} of ${opts.incidentEvents.length} incident events, e.g. ${ex.join('; ')}`,
    );
  }
  if (report.baseline.rate > maxRate)
    report.problems.push(
      `fires on ${report.baseline.hits} of ${report.baseline.events} baseline events (${(report.baseline.rate * 100).toFixed(3)} %, more than ${(maxRate * 100).toFixed(3)} %)`,
    );
  report.accepted = report.problems.length === 0;
  return report;
}

function* concat<T>(a: Iterable<T>, b: Iterable<T>): Generator<T> {
  yield* a;
  yield* b;
}
