/**
 * Offline rule synthesizer: from an incident's events, a Falco rule that fires
 * on all of them and on (almost) nothing else in the store.
 *
 * 1. Group the incident's events (syscall: by event type; k8s_audit: by the
 *    fields they carry) and, per group, take the most specific conjunction of
 *    the discriminating output fields every event of the group shares
 *    (`proc.name in (sh, bash) and proc.pname = php-fpm and container.image.repository = …`).
 * 2. Generalize greedily against the baseline (search.ts): drop terms, widen
 *    paths to a directory prefix, replace value sets by official lists and
 *    official macros (`shell_procs`, `spawned_process`, `sensitive_files`)
 *    while the rule's baseline hits stay within `generalizeUpTo` of the budget.
 * 3. The rule is the `or` of the groups' conjunctions, one rule per source,
 *    rendered as YAML, then validated and backtested from that YAML (loader,
 *    parser, resolver, evaluator), so the report describes the text a reviewer
 *    reads. It must fire on every incident event and on at most
 *    `maxBaselineRate` of the baseline.
 */
import { stringify } from 'yaml';
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { K8S_AUDIT_FIELDS } from './fields/k8s-audit.ts';
import { loadRules, type RulesSource } from './loader.ts';
import './synthesize/errors.ts';
import {
  CANDIDATE_FILE,
  DEFAULT_MAX_BASELINE_RATE,
  materializeBaseline,
  scoreProposal,
  type BaselineInput,
  type ProposalReport,
} from './synthesize/evaluate-proposal.ts';
import { commonFields, groupEvents } from './synthesize/features.ts';
import { generalize, type GroupSearch } from './synthesize/search.ts';
import { TermFactory, type Term } from './synthesize/terms.ts';

export interface SynthesizeOptions {
  incidentEvents: readonly NormalizedEvent[];
  /** Events of the store to stay quiet on (the incident's own events are excluded). */
  baseline: BaselineInput;
  /** Rules files whose macros and lists the rule may reuse (the official rules). */
  baseRules?: readonly RulesSource[];
  /** Most baseline events the proposal may fire on, as a fraction (default 0.001 = 0.1 %). */
  maxBaselineRate?: number;
  /**
   * Generalization stops once the rule would fire on more than this fraction
   * of the budget (default 0.1, i.e. 0.01 % of the baseline with the default
   * rate): headroom for what the baseline has not seen yet.
   */
  generalizeUpTo?: number;
  /** Incident id, used in the rule name (letters, digits, `.`, `_`, `-` kept). */
  incidentId?: string;
}

export interface SynthesizedRule {
  name: string;
  desc: string;
  condition: string;
  output: string;
  priority: string;
  tags: string[];
  source: string;
}

export interface RuleProposal {
  /** The rules file text (one rule per source of the incident's events). */
  yaml: string;
  /** The rule covering most incident events. */
  rule: SynthesizedRule;
  rules: SynthesizedRule[];
  backtest: ProposalReport;
}

const SAFE_TAG = /^[A-Za-z0-9_.:-]{1,64}$/;

export function safeIncidentId(id: string): string {
  const s = id.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 64);
  return s.length > 0 ? s : 'incident';
}

const CONTEXT_FIELDS: Record<string, string[]> = {
  syscall: [
    'proc.name',
    'proc.pname',
    'proc.cmdline',
    'proc.exepath',
    'user.name',
    'container.image.repository',
    'k8s.ns.name',
    'k8s.pod.name',
  ],
  k8s_audit: ['ka.user.name', 'ka.verb', 'ka.target.resource', 'ka.target.namespace', 'ka.target.name'],
};

function outputFor(source: string, terms: readonly Term[], id: string): string {
  const fields = [...new Set([...terms.map((t) => t.field), ...(CONTEXT_FIELDS[source] ?? [])])];
  const parts = fields
    .filter((f) => /^[a-z][a-z0-9_.]*(\[[A-Za-z0-9_./-]+\])?$/.test(f))
    .map((f) => `${f.replace(/[.[\]/]+/g, '_').replace(/_+$/, '')}=%${f}`);
  return `Falconer rule for incident ${id} matched (${parts.join(' ')})`;
}

function dedupe(groups: GroupSearch[]): GroupSearch[] {
  const sets = groups.map((g) => new Set(g.terms.map((t) => t.text)));
  return groups.filter((_, i) => {
    const mine = sets[i]!;
    // Drop a conjunction that another one implies (a superset of its terms), or an exact duplicate seen earlier.
    return !sets.some((other, j) => {
      if (j === i || other.size > mine.size) return false;
      const subset = [...other].every((t) => mine.has(t));
      return subset && (other.size < mine.size || j < i);
    });
  });
}

export function synthesizeRule(opts: SynthesizeOptions): RuleProposal {
  const incident = opts.incidentEvents;
  if (incident.length === 0)
    throw new FalconerError(
      'RULES_SYNTHESIS',
      'cannot synthesize a rule from an incident without events',
      {},
    );
  const maxRate = opts.maxBaselineRate ?? DEFAULT_MAX_BASELINE_RATE;
  const id = safeIncidentId(opts.incidentId ?? 'incident');
  const baseRules = opts.baseRules ?? [];
  const baseline = materializeBaseline(opts.baseline, incident);
  const observed = new Set<string>();
  for (const ev of incident) for (const k of Object.keys(ev.fields)) observed.add(k);
  for (let i = 0; i < baseline.fields.length && i < 20_000; i++)
    for (const k of Object.keys(baseline.fields[i]!)) observed.add(k);
  const terms = new TermFactory(loadRules(baseRules), observed);

  const searches: GroupSearch[] = [];
  for (const group of groupEvents(incident)) {
    if (group.source !== 'syscall' && group.source !== 'k8s_audit') continue;
    const groupFields = group.events.map((e) => e.fields);
    const s: GroupSearch = { source: group.source, terms: [], alternatives: [], pinned: new Set() };
    for (const [field, values] of commonFields(group.events)) {
      // Falco checks a k8s_audit rule's fields: only the k8saudit plugin's own are usable.
      const spec = K8S_AUDIT_FIELDS[field];
      if (group.source === 'k8s_audit' && (spec === undefined || spec.requiresArg === true)) continue;
      if (group.source === 'syscall' && field.startsWith('ka.')) continue;
      s.terms.push(terms.exact(field, values));
      s.alternatives.push(terms.generalizations(field, values, groupFields));
    }
    if (group.source === 'syscall') s.pinned.add('evt.type');
    if (s.terms.length > 0) searches.push(s);
  }
  const limit = Math.floor(baseline.events.length * maxRate * (opts.generalizeUpTo ?? 0.1));
  generalize(searches, baseline, limit);

  const rules: SynthesizedRule[] = [];
  const sources = [...new Set(searches.map((s) => s.source))];
  for (const source of sources) {
    const groups = dedupe(searches.filter((s) => s.source === source));
    const conj = groups.map((g) => g.terms.map((t) => t.text).join(' and '));
    const condition = conj.length === 1 ? conj[0]! : conj.map((c) => `(${c})`).join(' or ');
    const events = incident.filter((e) => e.source === source);
    const top = events.reduce((a, b) => (b.priorityLevel < a.priorityLevel ? b : a));
    const tags = [...new Set(['falconer', ...events.flatMap((e) => e.tags)])]
      .filter((t) => SAFE_TAG.test(t))
      .slice(0, 20);
    rules.push({
      name: `Falconer ${id}${sources.length > 1 ? ` (${source})` : ''}`,
      desc: `Synthesized by Falconer from the ${events.length} ${source} events of incident ${id}; see the backtest report of the proposal.`,
      condition,
      output: outputFor(
        source,
        groups.flatMap((g) => g.terms),
        id,
      ),
      priority: top.priority,
      tags,
      source,
    });
  }
  rules.sort((a, b) => countOf(incident, b.source) - countOf(incident, a.source));
  const yaml = renderRulesYaml(rules);
  const report = scoreProposal(yaml, {
    incidentEvents: incident,
    baseline,
    baseRules,
    maxBaselineRate: maxRate,
  });
  return { yaml, rule: rules[0]!, rules, backtest: report };
}

function countOf(events: readonly NormalizedEvent[], source: string): number {
  return events.filter((e) => e.source === source).length;
}

/** Rules as a Falco rules file. The YAML library quotes whatever the text holds (attacker-written values included). */
export function renderRulesYaml(rules: readonly SynthesizedRule[]): string {
  return stringify(
    rules.map((r) => ({
      rule: r.name,
      desc: r.desc,
      condition: r.condition,
      output: r.output,
      priority: r.priority,
      source: r.source,
      tags: r.tags,
    })),
    { lineWidth: 0 },
  );
}

export { CANDIDATE_FILE };
