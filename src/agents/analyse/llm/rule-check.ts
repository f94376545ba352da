/**
 * Scores the LLM's proposed Falco rule with the MCP tool `rules.backtest`
 * (through the ToolGateway, scope-checked like the model's own calls) and
 * judges it by detect's bar: it fires on every incident event and on at most
 * 0.1 % of the other stored events. The judgement is phrased for the model
 * (the repair round sends it back): `problems` are trusted text we wrote,
 * `details` quote stored data (parser messages, example ids) and go to the
 * model fenced.
 */
import type { NormalizedEvent } from '../../../events/types.ts';
import type { ToolGateway } from '../../../mcp/gateway.ts';
import { compileCandidate } from '../../../rules/backtest.ts';
import { DEFAULT_MAX_BASELINE_RATE } from '../../../rules/synthesize/evaluate-proposal.ts';
import { RulesBacktestOutput } from '../../../rules/tools.ts';
import type { AnalyseInput } from '../../contracts.ts';
import { isSafeId } from '../quote.ts';
import { toolScopeViolation, type ToolScope } from './tools.ts';

export const BACKTEST_TOOL = 'rules.backtest';
export type BacktestOutput = RulesBacktestOutput;
const MAX_INCIDENT_IDS = 1000;

export type BacktestCall =
  | { ok: true; output: BacktestOutput }
  /** The backtest could not run (tool missing, refused, failed): the rule cannot be scored here. */
  | { ok: false; reason: string };

/**
 * Runs `rules.backtest` for `rule` with the incident's event ids. No workload
 * or time range is pinned on purpose: detect judges a candidate against
 * everything its store holds, so "other events" here must be the same
 * population (the MCP server still restricts it to the caller's namespaces).
 */
export async function backtestThroughGateway(
  gateway: ToolGateway,
  rule: string,
  input: AnalyseInput,
  scope: ToolScope,
  signal?: AbortSignal,
): Promise<BacktestCall> {
  const args: Record<string, unknown> = {
    rule,
    // The tool takes at most 1,000 ids; an incident's first 1,000 events are its evidence.
    incidentEventIds: [...new Set(input.events.map((e) => e.id))].slice(0, MAX_INCIDENT_IDS),
  };
  const refused = toolScopeViolation(BACKTEST_TOOL, args, scope);
  if (refused !== undefined) return { ok: false, reason: `refused: ${refused}` };
  let res;
  try {
    res = await gateway.call(BACKTEST_TOOL, args, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    return { ok: false, reason: `${BACKTEST_TOOL} failed: ${(err as Error).message}` };
  }
  if (res.isError)
    return { ok: false, reason: `${BACKTEST_TOOL} returned an error: ${res.text.slice(0, 300)}` };
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch {
    return { ok: false, reason: `${BACKTEST_TOOL} returned non-JSON output` };
  }
  const parsed = RulesBacktestOutput.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `${BACKTEST_TOOL} returned an unexpected shape` };
  return { ok: true, output: parsed.data };
}

/**
 * Ids of the analysed events the rule does not fire on, evaluated here with
 * the rule alone; undefined when it cannot compile without the server's base
 * rules (it uses official macros or lists): then only the count is known.
 */
export function missedLocally(rule: string, input: AnalyseInput): string[] | undefined {
  let compiled;
  try {
    compiled = compileCandidate(rule);
  } catch {
    return undefined;
  }
  // Wire events carry the same fields the rule machinery reads (as detect's propose does).
  const events = input.events as unknown as NormalizedEvent[];
  return events.filter((e) => !(e.source === compiled.source && compiled.matches(e.fields))).map((e) => e.id);
}

export interface RuleJudgement {
  accepted: boolean;
  /** What is wrong, for the model and the log (our own words and numbers, safe ids only). */
  problems: string[];
  /** Stored data behind the problems (parser messages, example ids of other hits): fenced for the model. */
  details: string[];
}

const pct = (rate: number): string => `${(rate * 100).toFixed(3)} %`;

function ids(list: readonly string[], max = 20): string {
  const safe = list.filter(isSafeId);
  const shown = safe.slice(0, max).join(', ');
  return safe.length > max ? `${shown}, … (${safe.length - max} more)` : shown;
}

export function judgeBacktest(
  output: BacktestOutput,
  rule: string,
  input: AnalyseInput,
  maxRate = DEFAULT_MAX_BASELINE_RATE,
): RuleJudgement {
  if (!output.valid || output.report === undefined) {
    return {
      accepted: false,
      problems: [
        `the rule does not compile (${output.errors.length} error(s), listed in the data below); fix the YAML or the condition`,
      ],
      details: output.errors
        .slice(0, 5)
        .map((e) => `line ${e.line}, column ${e.column}: ${e.message} (${e.text})`),
    };
  }
  const r = output.report;
  const problems: string[] = [];
  const details: string[] = [];
  const inputIds = new Set(input.events.map((e) => e.id));
  const local = missedLocally(rule, input);
  if (r.incident.events > 0 && r.incident.missed > 0) {
    const known = local?.filter((id) => inputIds.has(id)) ?? [];
    problems.push(
      `it missed ${r.incident.missed} of the incident's ${r.incident.events} stored events${
        known.length > 0 ? ` (ids: ${ids(known)})` : ''
      }; it must fire on every one of them`,
    );
  } else if (r.incident.events === 0 && local !== undefined && local.length > 0) {
    // The incident's events are not in the store: coverage is checked on the analysed events instead.
    problems.push(
      `it does not fire on ${local.length} of the ${input.events.length} incident events (ids: ${ids(local)}); it must fire on every one of them`,
    );
  }
  if (r.other.hitRate > maxRate) {
    problems.push(
      `it fired on ${r.other.hits} of ${r.other.events} other stored events (hit rate ${pct(r.other.hitRate)}; the limit is ${pct(maxRate)}); make the condition more specific to this incident`,
    );
    if (r.other.exampleIds.length > 0)
      details.push(`ids of other events it fired on: ${ids(r.other.exampleIds, 10)}`);
  }
  return { accepted: problems.length === 0, problems, details };
}

/** One line for the log and the explanation note: what the backtest found. */
export function backtestSummary(output: BacktestOutput): string {
  const r = output.report;
  if (!output.valid || r === undefined) return `invalid (${output.errors.length} error(s))`;
  return `incident ${r.incident.hits}/${r.incident.events} hit, other ${r.other.hits}/${r.other.events} (${pct(r.other.hitRate)})`;
}
