/**
 * The model's final answer, checked before anything uses it: JSON, the
 * LlmAnalysis schema, cited ids that exist (input events or events a tool
 * returned in this loop), actions from the catalogue only (never widened),
 * a proposed rule that validates (else dropped with a note). Problems are
 * phrased for the model: the repair round sends them back verbatim.
 */
import type { ChatResponse } from '../../../llm/types.ts';
import { stripInvisible, truncateText } from '../../../llm/untrusted/index.ts';
import { validateSources } from '../../../rules/validate.ts';
import { ActionKind, type AnalysisResult, type Technique } from '../../contracts.ts';
import { TACTIC_NAMES, TECHNIQUES } from '../attack-knowledge.ts';
import { quote } from '../quote.ts';
import { LlmAnalysis } from './schema.ts';

export interface AnswerContext {
  /** Event ids the model may cite. */
  readonly citable: ReadonlySet<string>;
  /** Longest answer accepted, in characters. */
  readonly maxAnswerChars: number;
}

export type AnswerCheck =
  { ok: true; result: Omit<AnalysisResult, 'analyst'>; notes: string[] } | { ok: false; problems: string[] };

const CATALOGUE: ReadonlySet<string> = new Set(ActionKind.options);
const TECHNIQUE_ID = /^T\d{4}(\.\d{3})?$/;

/** A code fence around the JSON (```json … ```) is tolerated; anything else around it is not. */
export function unwrap(content: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n\s*```\s*$/.exec(content);
  return m?.[1] ?? content;
}

function techniqueOf(id: string): Technique | undefined {
  if (!TECHNIQUE_ID.test(id)) return undefined;
  const exact = TECHNIQUES[id];
  const parent = TECHNIQUES[id.slice(0, 5)];
  const info = exact ?? parent;
  // Unknown ids are dropped: the model must not make up techniques we cannot name.
  if (info === undefined) return undefined;
  return {
    id,
    name: exact !== undefined ? info.name : `${info.name} (sub-technique ${id})`,
    tactic: TACTIC_NAMES[info.tactic],
  };
}

/** The proposed rule's validation problems (empty = valid). */
export function ruleProblems(rule: string): string[] {
  try {
    const { files } = validateSources([{ file: 'proposed-rule.yaml', text: rule }]);
    const issues = files.flatMap((f) => f.errors);
    const rules = files.reduce((n, f) => n + f.rules, 0);
    if (issues.length > 0) return issues.slice(0, 3).map((i) => `line ${i.line}: ${i.message}`);
    if (rules === 0) return ['it defines no rule'];
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

export function checkAnswer(response: ChatResponse, ctx: AnswerContext): AnswerCheck {
  const content = response.content;
  if (response.finishReason === 'length')
    return {
      ok: false,
      problems: [
        'your answer was cut off at the output token limit (finish_reason=length): answer again, shorter (explanation at most 8 sentences)',
      ],
    };
  if (content.length > ctx.maxAnswerChars)
    return {
      ok: false,
      problems: [
        `your answer is ${content.length} characters; the limit is ${ctx.maxAnswerChars}: answer again, shorter`,
      ],
    };
  if (content.trim() === '')
    return { ok: false, problems: ['your answer was empty: answer with the JSON object'] };
  let json: unknown;
  try {
    json = JSON.parse(unwrap(content));
  } catch (err) {
    return {
      ok: false,
      problems: [
        `your answer is not JSON (${(err as Error).message}): answer with one JSON object and nothing else`,
      ],
    };
  }
  const parsed = LlmAnalysis.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues
        .slice(0, 8)
        .map((i) => `schema mismatch at ${i.path.join('.') || '(root)'}: ${i.message}`),
    };
  }
  const a = parsed.data;
  const problems: string[] = [];
  const invented = a.citedEventIds.filter((id) => !ctx.citable.has(id));
  if (invented.length > 0)
    problems.push(
      `citedEventIds has ids that are neither events you were given nor events a tool returned: ${invented
        .slice(0, 10)
        .map((id) => quote(id, 80))
        .join(', ')}; cite only those ids`,
    );
  const foreign = a.recommendedActions.filter((x) => !CATALOGUE.has(x));
  if (foreign.length > 0)
    problems.push(
      `recommendedActions has actions outside the catalogue: ${foreign
        .slice(0, 10)
        .map((x) => quote(x, 64))
        .join(', ')}; choose only from ${[...CATALOGUE].join(', ')}`,
    );
  if (problems.length > 0) return { ok: false, problems };

  const notes: string[] = [];
  let proposedRule: string | undefined;
  if (typeof a.proposedRule === 'string' && a.proposedRule.trim() !== '') {
    const bad = ruleProblems(a.proposedRule);
    if (bad.length === 0) proposedRule = a.proposedRule;
    else notes.push(`The proposed Falco rule was dropped: it does not validate (${bad.join('; ')}).`);
  }
  const techniques: Technique[] = [];
  for (const id of new Set(a.techniques)) {
    const t = techniqueOf(id);
    if (t !== undefined) techniques.push(t);
  }
  const dropped = a.techniques.length - techniques.length;
  if (dropped > 0) notes.push(`${dropped} technique id(s) not in the ATT&CK knowledge base were dropped.`);
  const tail = notes.length > 0 ? `\n\n${notes.join('\n')}` : '';
  const explanation = `${truncateText(stripInvisible(a.explanation), 8000 - tail.length - 40)}${tail}`;
  return {
    ok: true,
    notes,
    result: {
      verdict: a.verdict,
      confidence: a.confidence,
      severity: a.severity,
      techniques,
      explanation,
      citedEventIds: [...new Set(a.citedEventIds)],
      recommendedActions: [...new Set(a.recommendedActions)] as ActionKind[],
      ...(proposedRule !== undefined ? { proposedRule } : {}),
    },
  };
}
