/**
 * The repair loop of LLM mode: a candidate rules YAML (from the analyse
 * agent's LLM) is validated and backtested; while it is invalid, misses
 * incident events or is too noisy, `repair` (the LLM, told exactly what is
 * wrong) gets up to `maxRounds` chances to fix it. Every round is recorded.
 */
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import type { RulesSource } from './loader.ts';
import {
  materializeBaseline,
  scoreProposal,
  type BaselineInput,
  type ProposalReport,
} from './synthesize/evaluate-proposal.ts';
import './synthesize/errors.ts';

/** Largest candidate accepted from a repair function (an LLM may babble). */
export const MAX_CANDIDATE_CHARS = 200_000;

export interface RefineOptions {
  incidentEvents: readonly NormalizedEvent[];
  baseline: BaselineInput;
  baseRules?: readonly RulesSource[];
  maxBaselineRate?: number;
  /** Repair rounds after the first scoring (default 3). */
  maxRounds?: number;
  /** Asked for a better YAML given the current one and what is wrong with it. */
  repair: (yaml: string, problems: readonly string[]) => Promise<string>;
}

export interface RefineRound {
  round: number;
  yaml: string;
  report: ProposalReport;
}

export interface RefineResult {
  accepted: boolean;
  /** The last candidate (the accepted one when accepted). */
  yaml: string;
  report: ProposalReport;
  rounds: RefineRound[];
}

export async function refineRule(candidateYaml: string, opts: RefineOptions): Promise<RefineResult> {
  const maxRounds = opts.maxRounds ?? 3;
  if (!Number.isInteger(maxRounds) || maxRounds < 0 || maxRounds > 20)
    throw new FalconerError('RULES_SYNTHESIS', `maxRounds must be an integer 0..20, got ${maxRounds}`, {
      maxRounds,
    });
  const baseline = materializeBaseline(opts.baseline, opts.incidentEvents);
  const score = (yaml: string): ProposalReport =>
    scoreProposal(yaml, {
      incidentEvents: opts.incidentEvents,
      baseline,
      ...(opts.baseRules !== undefined ? { baseRules: opts.baseRules } : {}),
      ...(opts.maxBaselineRate !== undefined ? { maxBaselineRate: opts.maxBaselineRate } : {}),
    });
  let yaml = candidateYaml;
  const rounds: RefineRound[] = [];
  for (let round = 0; ; round++) {
    const report =
      yaml.length > MAX_CANDIDATE_CHARS
        ? tooLong(yaml.length, opts.incidentEvents.length, baseline.events.length, opts.maxBaselineRate)
        : score(yaml);
    rounds.push({ round, yaml, report });
    if (report.accepted || round >= maxRounds) return { accepted: report.accepted, yaml, report, rounds };
    const next = await opts.repair(yaml, report.problems);
    if (typeof next !== 'string')
      throw new FalconerError('RULES_SYNTHESIS', 'the repair function returned no text', { round });
    yaml = next;
  }
}

function tooLong(chars: number, incident: number, baseline: number, maxRate = 0.001): ProposalReport {
  return {
    valid: false,
    issues: [],
    rules: [],
    incident: { events: incident, hits: 0, missed: incident },
    baseline: { events: baseline, hits: 0, rate: 0, maxRate, exampleIds: [] },
    perRule: [],
    accepted: false,
    problems: [`the candidate has ${chars} characters, more than ${MAX_CANDIDATE_CHARS}`],
  };
}
