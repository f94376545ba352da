/**
 * `rules.propose`: a Falco rule for an incident, backtested against detect's
 * event store (the incident's events versus everything else it holds).
 * The analyst's candidate is kept when it fires on every incident event and
 * on at most 0.1 % of the baseline; otherwise the offline synthesizer writes
 * one. Pure apart from reading the store; never throws for a bad candidate
 * (the answer says why there is no rule).
 */
import { isFalconerError } from '../../../errors.ts';
import type { NormalizedEvent } from '../../../events/types.ts';
import type { EventStore } from '../../../store/event-store.ts';
import { synthesizeRule } from '../../../rules/synthesize.ts';
import {
  DEFAULT_MAX_BASELINE_RATE,
  materializeBaseline,
  scoreProposal,
  type ProposalReport,
} from '../../../rules/synthesize/evaluate-proposal.ts';
import type {
  EventWire,
  ProposalReportWire,
  RulesProposeInput,
  RulesProposeOutput,
} from '../../contracts.ts';
import { clip } from '../../event-wire.ts';
import { rulesOfYaml } from './rules-yaml.ts';

const MAX_YAML = 100_000;
const MAX_CONDITION = 20_000;

// Stored events are the wire form of normalized events; the rule machinery reads the same fields.
const asEvents = (events: readonly EventWire[]): NormalizedEvent[] => events as unknown as NormalizedEvent[];

/** The report within the wire contract's bounds (issues and problems quote attacker-written text). */
export function reportWire(r: ProposalReport): ProposalReportWire {
  return {
    valid: r.valid,
    issues: r.issues.slice(0, 100).map((i) => ({
      file: clip(i.file, 300),
      line: i.line,
      column: i.column,
      message: clip(i.message, 2000),
      text: clip(i.text, 2000),
    })),
    rules: r.rules.slice(0, 64).map((n) => clip(n, 512)),
    incident: r.incident,
    baseline: { ...r.baseline, exampleIds: r.baseline.exampleIds.slice(0, 100) },
    perRule: r.perRule.slice(0, 64).map((b) => ({
      rule: clip(b.rule, 512),
      events: b.events,
      hits: b.hits,
      incident: b.incident,
      other: { ...b.other, exampleIds: b.other.exampleIds.slice(0, 100) },
      elapsedMs: b.elapsedMs,
      eventsPerSecond: b.eventsPerSecond,
    })),
    accepted: r.accepted,
    problems: r.problems.slice(0, 100).map((p) => clip(p, 4000)),
  };
}

function answer(
  origin: 'candidate' | 'synthesized',
  yaml: string,
  report: ProposalReport,
): RulesProposeOutput {
  const rules = rulesOfYaml(yaml);
  if (yaml.length > MAX_YAML || rules.length === 0 || rules.length > 16)
    return { status: 'none', reason: `the ${origin} rules file is too large or has no rule` };
  if (rules.some((r) => r.condition.length > MAX_CONDITION))
    return { status: 'none', reason: `a condition of the ${origin} rule is longer than ${MAX_CONDITION}` };
  return { status: 'proposed', origin, yaml, rules, report: reportWire(report) };
}

export interface ProposeOptions {
  maxBaselineRate?: number;
  /** The most recent stored events the rule is backtested against (default 50,000): bounds the work. */
  maxBaselineEvents?: number;
}

/**
 * A proposal takes about 1.2 s for 50,000 events on an idle core (in detect's proposal worker, off
 * its event loop), so the baseline is the newest 50,000 events: at 0.1 % that still allows at most
 * 50 hits, enough to tell a noisy rule.
 */
export const DEFAULT_MAX_BASELINE_EVENTS = 50_000;

/** The last `n` items of an oldest-first iteration, without copying the whole store first. */
function newest<T>(items: Iterable<T>, n: number): T[] {
  const ring: T[] = [];
  let next = 0;
  for (const item of items) {
    if (ring.length < n) ring.push(item);
    else ring[next] = item;
    next = (next + 1) % n;
  }
  return ring.length < n ? ring : [...ring.slice(next), ...ring.slice(0, next)];
}

/** The incident's events still in the store, each once, in the order given. */
export function incidentEventsOf(store: Pick<EventStore, 'get'>, eventIds: readonly string[]): EventWire[] {
  const incident: EventWire[] = [];
  const seen = new Set<string>();
  for (const id of eventIds) {
    const ev = seen.has(id) ? undefined : store.get(id);
    seen.add(id);
    if (ev !== undefined) incident.push(ev);
  }
  return incident;
}

export const NO_INCIDENT_EVENTS: RulesProposeOutput = {
  status: 'none',
  reason: "none of the incident's events is in the event store any more",
};

export function proposeRule(
  store: Pick<EventStore, 'get' | 'iterate'>,
  input: RulesProposeInput,
  opts: ProposeOptions = {},
): RulesProposeOutput {
  const incident = incidentEventsOf(store, input.eventIds);
  if (incident.length === 0) return NO_INCIDENT_EVENTS;
  const maxBaseline = opts.maxBaselineEvents ?? DEFAULT_MAX_BASELINE_EVENTS;
  return proposeFrom(incident, () => newest(store.iterate(), maxBaseline), input, opts);
}

/**
 * The proposal from the incident's events and a baseline (stored events, the incident's own
 * are left out by id): pure, so it runs the same on detect's event loop or in the proposal worker.
 */
export function proposeFrom(
  incident: readonly EventWire[],
  baselineEvents: () => Iterable<EventWire>,
  input: RulesProposeInput,
  opts: Pick<ProposeOptions, 'maxBaselineRate'> = {},
): RulesProposeOutput {
  const maxBaselineRate = opts.maxBaselineRate ?? DEFAULT_MAX_BASELINE_RATE;
  if (incident.length === 0) return NO_INCIDENT_EVENTS;
  const incidentEvents = asEvents(incident);
  // Stored events are the wire form of normalized events; the rule machinery reads the same fields.
  const baseline = materializeBaseline(
    () => baselineEvents() as unknown as Iterable<NormalizedEvent>,
    incidentEvents,
  );

  let candidateProblems: string[] = [];
  if (input.candidate !== undefined && input.candidate.trim() !== '') {
    const report = scoreProposal(input.candidate, { incidentEvents, baseline, maxBaselineRate });
    if (report.accepted) return answer('candidate', input.candidate, report);
    candidateProblems = report.problems.slice(0, 3);
  }
  try {
    const proposal = synthesizeRule({
      incidentEvents,
      baseline: baseline.events,
      maxBaselineRate,
      incidentId: input.incidentId,
    });
    if (proposal.backtest.accepted) return answer('synthesized', proposal.yaml, proposal.backtest);
    const why = [
      ...candidateProblems.map((p) => `candidate: ${p}`),
      ...proposal.backtest.problems.slice(0, 3).map((p) => `synthesized: ${p}`),
    ];
    return { status: 'none', reason: clip(`no rule meets the bar: ${why.join('; ')}`, 4000) };
  } catch (err) {
    if (isFalconerError(err, 'RULES_SYNTHESIS')) return { status: 'none', reason: clip(err.message, 4000) };
    throw err;
  }
}
