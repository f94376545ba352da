/**
 * Rule repair rounds: the analysis proposed a Falco rule that parses; the
 * backtester (`rules.backtest` over MCP) scores it, and while it misses
 * incident events or fires on more than 0.1 % of the other stored events (or
 * the YAML is invalid), the model is told precisely what is wrong and asked
 * for `{ proposedRule }` again (structured output), up to `maxRounds` times.
 *
 * The repair conversation is its own, short one (system prompt + the incident's
 * events, fenced, + the rule and the findings): the analysis conversation may
 * hold tool-use turns that some providers only accept alongside tool specs.
 * The caller makes the LLM calls (so they are recorded and counted like the
 * analysis's own) and decides what to do with the outcome.
 */
import { z } from 'zod';
import type { ChatMessage, ChatResponse } from '../../../llm/types.ts';
import { truncateText, type Fencer } from '../../../llm/untrusted/index.ts';
import type { ToolGateway } from '../../../mcp/gateway.ts';
import type { AnalyseInput } from '../../contracts.ts';
import { ruleProblems, unwrap } from './answer.ts';
import { renderEvents, type RenderLimits } from './render.ts';
import {
  backtestSummary,
  backtestThroughGateway,
  judgeBacktest,
  type BacktestOutput,
  type RuleJudgement,
} from './rule-check.ts';
import type { ToolScope } from './tools.ts';

/** Name of the structured-output schema of a repair answer (also the Anthropic answer tool). */
export const RULE_REPAIR_SCHEMA_NAME = 'falconer_rule_repair';

export const RuleRepairAnswer = z.strictObject({
  proposedRule: z.string().max(20_000).nullable(),
});

/** Strict-mode compatible: the one property required, null = no rule can meet the bar. */
export const RULE_REPAIR_JSON_SCHEMA: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['proposedRule'],
  properties: {
    proposedRule: {
      type: ['string', 'null'],
      description: 'The corrected self-contained Falco rule (YAML, a list with one `- rule:` item), or null',
    },
  },
};

const REPAIR_RULES = [
  'Task now: repair the Falco rule you proposed for this incident.',
  'A backtest ran it over the stored events. A rule is kept only when it fires on EVERY event of the incident',
  'and on at most 0.1 % of the other stored events; the findings below say what failed.',
  'Answer: one JSON object {"proposedRule": "<the corrected rule as Falco YAML: a list with one `- rule:` item>"},',
  'or {"proposedRule": null} when no rule can meet that bar. Nothing else.',
].join('\n');

export interface RuleRepairDeps {
  readonly gateway: ToolGateway;
  readonly input: AnalyseInput;
  readonly scope: ToolScope;
  /** Fences the events and the backtest details of the repair conversation. */
  readonly fencer: Fencer;
  /** The analysis prompt's system text (the repair rules are appended). */
  readonly system: string;
  readonly render: RenderLimits;
  readonly maxRounds: number;
  /** One LLM call with the repair schema (the caller records it and counts its tokens). */
  readonly complete: (messages: ChatMessage[]) => Promise<ChatResponse>;
  /** Tokens left in the analysis's budget. */
  readonly tokensLeft: () => number;
  readonly signal?: AbortSignal;
}

export interface RuleRepairRound {
  readonly round: number;
  /** What this round's answer was: scored by the backtest, or why it failed before that. */
  readonly outcome: 'accepted' | 'rejected' | 'invalid_yaml' | 'invalid_answer';
  readonly problems: readonly string[];
}

export type RuleRepairOutcome =
  | { status: 'accepted'; rule: string; rounds: RuleRepairRound[]; backtest: BacktestOutput }
  /** The backtest could not run: the parser-validated rule is kept unscored (detect scores it later). */
  | { status: 'unscored'; rule: string; rounds: RuleRepairRound[]; reason: string }
  | { status: 'dropped'; rounds: RuleRepairRound[]; reason: string; backtest?: BacktestOutput };

type Parsed = { ok: true; rule: string | null } | { ok: false; problems: string[] };

function parseRepair(response: ChatResponse): Parsed {
  if (response.finishReason === 'length')
    return {
      ok: false,
      problems: ['your answer was cut off at the output token limit: answer again, shorter'],
    };
  let json: unknown;
  try {
    json = JSON.parse(unwrap(response.content));
  } catch (err) {
    return {
      ok: false,
      problems: [`your answer is not JSON (${(err as Error).message}): answer with {"proposedRule": …} only`],
    };
  }
  const parsed = RuleRepairAnswer.safeParse(json);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues
        .slice(0, 4)
        .map((i) => `schema mismatch at ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  const rule = parsed.data.proposedRule;
  return { ok: true, rule: rule === null || rule.trim() === '' ? null : rule };
}

function findings(
  problems: readonly string[],
  details: readonly string[],
  fencer: Fencer,
  round: number,
): string {
  const parts = [`The backtest rejected this rule:\n${problems.map((p) => `- ${p}`).join('\n')}`];
  if (details.length > 0) {
    const fenced =
      fencer.fence(`backtest-${round}`, details.join('\n')) ??
      '(left out: this analysis has used its data budget)';
    parts.push(`Details (untrusted data: it quotes stored events and your rule):\n${fenced}`);
  }
  parts.push('Reply with only the JSON object {"proposedRule": …}.');
  return parts.join('\n\n');
}

/** Scores `rule`; repairs it with the model while it fails, up to `deps.maxRounds` rounds. */
export async function scoreAndRepairRule(rule: string, deps: RuleRepairDeps): Promise<RuleRepairOutcome> {
  const rounds: RuleRepairRound[] = [];
  const score = (candidate: string) =>
    backtestThroughGateway(deps.gateway, candidate, deps.input, deps.scope, deps.signal);

  const first = await score(rule);
  if (!first.ok) return { status: 'unscored', rule, rounds, reason: first.reason };
  let last: BacktestOutput = first.output;
  let judgement: RuleJudgement = judgeBacktest(last, rule, deps.input);
  if (judgement.accepted) return { status: 'accepted', rule, rounds, backtest: last };

  const messages: ChatMessage[] = [
    { role: 'system', content: `${deps.system}\n\n${deps.fencer.notice()}\n\n${REPAIR_RULES}` },
    {
      role: 'user',
      content: `The incident's events (most severe first):\n${renderEvents(deps.input, deps.fencer, deps.render)}\n\nYour proposed rule follows.`,
    },
  ];
  let assistant = JSON.stringify({ proposedRule: rule });
  let problems = judgement.problems;
  let details = judgement.details;
  for (let round = 1; round <= deps.maxRounds; round++) {
    if (deps.tokensLeft() <= 0)
      return {
        status: 'dropped',
        rounds,
        backtest: last,
        reason: `the analysis's token budget is spent after ${round - 1} repair round(s); last problem: ${problems[0] ?? 'none'}`,
      };
    messages.push(
      { role: 'assistant', content: assistant },
      { role: 'user', content: findings(problems, details, deps.fencer, round) },
    );
    const response = await deps.complete(messages);
    assistant = truncateText(response.content, 20_000);
    const parsed = parseRepair(response);
    if (!parsed.ok) {
      rounds.push({ round, outcome: 'invalid_answer', problems: parsed.problems });
      problems = parsed.problems;
      details = [];
      continue;
    }
    if (parsed.rule === null) {
      rounds.push({ round, outcome: 'invalid_answer', problems: ['the model withdrew the rule'] });
      return {
        status: 'dropped',
        rounds,
        backtest: last,
        reason: 'the model found no rule that meets the bar',
      };
    }
    const candidate = parsed.rule;
    const invalid = ruleProblems(candidate);
    if (invalid.length > 0) {
      problems = [
        'the rule does not validate (parser errors in the data below); fix the YAML or the condition',
      ];
      details = invalid;
      rounds.push({ round, outcome: 'invalid_yaml', problems });
      continue;
    }
    const scored = await score(candidate);
    if (!scored.ok) return { status: 'unscored', rule: candidate, rounds, reason: scored.reason };
    last = scored.output;
    judgement = judgeBacktest(last, candidate, deps.input);
    rounds.push({
      round,
      outcome: judgement.accepted ? 'accepted' : 'rejected',
      problems: judgement.accepted ? [backtestSummary(last)] : judgement.problems,
    });
    if (judgement.accepted) return { status: 'accepted', rule: candidate, rounds, backtest: last };
    problems = judgement.problems;
    details = judgement.details;
  }
  return {
    status: 'dropped',
    rounds,
    backtest: last,
    reason:
      deps.maxRounds === 0
        ? `it fails the backtest (${problems[0] ?? 'unknown'}) and repair rounds are off`
        : `after ${deps.maxRounds} repair round(s) it still fails: ${problems[0] ?? 'unknown'}`,
  };
}
