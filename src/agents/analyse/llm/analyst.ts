/**
 * The LLM analyst: one incident in, one schema-valid AnalysisResult out.
 *
 *   prompt (system + fenced incident) → model ⇄ tools (bounded rounds/calls/tokens/time)
 *   → JSON answer → checks (answer.ts) → result (analyst: 'llm')
 *
 * An invalid answer, or a tool loop that will not end, gets ONE repair round
 * that says precisely what was wrong; after that, or when the provider is
 * down, the budget spent or the time up, the offline analyst answers and the
 * result says why (degradedReason). Every call is recorded on the result.
 */
import { FalconerError, isFalconerError } from '../../../errors.ts';
import type { LlmClient } from '../../../llm/client.ts';
import '../../../llm/errors.ts';
import type { ChatMessage, ChatResponse, PromptRef, ToolCall } from '../../../llm/types.ts';
import { Fencer, stripInvisible, truncateText } from '../../../llm/untrusted/index.ts';
import type { ToolGateway } from '../../../mcp/gateway.ts';
import type { LoadedPrompt, PromptSource } from '../../../prompts/types.ts';
import type { Logger } from '../../../telemetry/logger.ts';
import { ActionKind, AnalysisResult, type AnalyseInput, type LlmCallWire } from '../../contracts.ts';
import '../errors.ts';
import { analyseOffline } from '../offline.ts';
import { checkAnswer } from './answer.ts';
import { BUILTIN_ANALYSIS_PROMPT } from './builtin-prompt.ts';
import {
  citableInputIds,
  DEFAULT_RENDER_LIMITS,
  fillTemplate,
  renderEvents,
  renderIncident,
  renderWorkload,
  type RenderLimits,
} from './render.ts';
import { backtestSummary } from './rule-check.ts';
import {
  RULE_REPAIR_JSON_SCHEMA,
  RULE_REPAIR_SCHEMA_NAME,
  scoreAndRepairRule,
  type RuleRepairOutcome,
} from './rule-repair.ts';
import { ANALYSIS_JSON_SCHEMA, ANALYSIS_SCHEMA_NAME } from './schema.ts';
import { scopeOf, ToolBridge, type ToolCallRecord } from './tools.ts';

export interface LlmAnalystLimits {
  maxToolRounds: number;
  maxToolCalls: number;
  maxTotalTokens: number;
  timeoutMs: number;
  /** Longest final answer accepted (characters). */
  maxAnswerChars: number;
  /** Longest tool result sent back (characters). */
  maxToolResultChars: number;
  /** All fenced data of one analysis together (characters). */
  maxDataChars: number;
  /** LLM repair rounds of a proposed rule the backtest rejects (needs a ToolGateway); 0 = score only, no repair. */
  maxRuleRepairRounds: number;
  render: RenderLimits;
}

export const DEFAULT_LIMITS: LlmAnalystLimits = {
  maxToolRounds: 6,
  maxToolCalls: 16,
  maxTotalTokens: 80_000,
  timeoutMs: 120_000,
  maxAnswerChars: 32_000,
  maxToolResultChars: 8_000,
  maxDataChars: 120_000,
  maxRuleRepairRounds: 2,
  render: DEFAULT_RENDER_LIMITS,
};

export interface LlmAnalystOptions {
  client: LlmClient;
  prompts: PromptSource;
  /** Absent: single-shot, no tools. */
  tools?: ToolGateway;
  limits?: Partial<LlmAnalystLimits>;
  logger?: Logger;
  /** Prompt `spec.name` for agent analyse (default incident-analysis). */
  promptName?: string;
  /** Use the built-in prompt when the source has none (default true). */
  builtinFallback?: boolean;
  /** Fixed fence nonce (tests); random per analysis otherwise. */
  nonce?: () => string;
}

export interface AnalyseOptions {
  traceId?: string;
  signal?: AbortSignal;
}

export interface LlmAnalysisOutcome {
  result: AnalysisResult;
  calls: LlmCallWire[];
  toolCalls: ToolCallRecord[];
  /** True when the answer needed the repair round. */
  repaired: boolean;
  /** The error code behind a fallback to the offline analyst. */
  degradedCode?: string;
  /** What the backtest and the repair rounds made of the proposed rule (absent: not scored, e.g. no gateway). */
  ruleCheck?: RuleRepairOutcome;
}

interface RunOutcome {
  result: Omit<AnalysisResult, 'analyst'>;
  repaired: boolean;
  /** Tokens the analysis used so far. */
  tokens: number;
  prompt: LoadedPrompt;
}

const OUTPUT_RULES = (catalogue: readonly string[]): string =>
  [
    'Answer: one JSON object matching the response schema, nothing else:',
    '- verdict: true_positive, false_positive or needs_review; confidence 0..1; severity low, medium, high or critical;',
    '- techniques: MITRE ATT&CK ids supported by the events (e.g. T1059.004);',
    '- explanation: what happened and why it matters, at most 8 sentences, citing events as [event <id>];',
    '- citedEventIds: only ids of events shown to you (Event id=…) or returned by a tool;',
    `- recommendedActions: only from this catalogue: ${catalogue.join(', ')} (policy and a human decide; you never act);`,
    '- proposedRule: a self-contained Falco rule in YAML (a list with one `- rule:` item) when useful, else null.',
    // Attackers retry; an echo of a judged attack must not be waved through as the usual noise.
    "priorIncidents in the incident block (when present) are this workload's incidents closed shortly before, with",
    'their verdicts. Activity that repeats the rules of one judged true_positive or needs_review is not benign because',
    'it recurs: never answer false_positive on that ground; answer needs_review at least unless the events show why',
    'it is benign.',
  ].join('\n');

class Degrade extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class LlmAnalyst {
  readonly #o: LlmAnalystOptions;
  readonly #limits: LlmAnalystLimits;
  #warnedBuiltin = false;

  constructor(opts: LlmAnalystOptions) {
    this.#o = opts;
    this.#limits = { ...DEFAULT_LIMITS, ...opts.limits };
  }

  get limits(): Readonly<LlmAnalystLimits> {
    return this.#limits;
  }

  #prompt(): LoadedPrompt {
    const name = this.#o.promptName ?? 'incident-analysis';
    const loaded = this.#o.prompts.get('analyse', name);
    if (loaded !== undefined) return loaded;
    if (this.#o.builtinFallback !== false && name === BUILTIN_ANALYSIS_PROMPT.name) {
      if (!this.#warnedBuiltin)
        this.#o.logger?.warn({ prompt: name }, 'no AgentPrompt loaded: using the built-in prompt');
      this.#warnedBuiltin = true;
      return BUILTIN_ANALYSIS_PROMPT;
    }
    throw new FalconerError('ANALYSE_LLM_NO_PROMPT', `no AgentPrompt analyse/${name} is loaded`, { name });
  }

  /** Analyses one (already validated) incident; never throws for LLM trouble: the offline analyst answers instead. */
  async analyse(input: AnalyseInput, opts: AnalyseOptions = {}): Promise<LlmAnalysisOutcome> {
    const traceId = opts.traceId ?? input.incident.traceId;
    const calls: LlmCallWire[] = [];
    const toolCalls: ToolCallRecord[] = [];
    const timeout = AbortSignal.timeout(this.#limits.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let repaired = false;
    try {
      const run = await this.#run(input, traceId, signal, calls, toolCalls);
      repaired = run.repaired;
      let answer = run.result;
      let ruleCheck: RuleRepairOutcome | undefined;
      if (this.#o.tools !== undefined && answer.proposedRule !== undefined) {
        ({ answer, ruleCheck } = await this.#checkRule(
          answer,
          input,
          run,
          traceId,
          signal,
          calls,
          opts.signal,
        ));
      }
      const result = AnalysisResult.parse({ ...answer, analyst: 'llm', llmCalls: calls.slice(-50) });
      return { result, calls, toolCalls, repaired, ...(ruleCheck ? { ruleCheck } : {}) };
    } catch (err) {
      if (opts.signal?.aborted) throw err; // the caller gave up: not ours to answer
      const { code, reason } = this.#explain(err, timeout.aborted);
      this.#o.logger?.warn(
        { incidentId: input.incident.id, trace_id: traceId, code, reason, calls: calls.length },
        'llm analysis failed; offline analyst answers',
      );
      const offline = analyseOffline(input);
      const result = AnalysisResult.parse({
        ...offline,
        degradedReason: truncateText(reason, 480),
        llmCalls: calls.slice(-50),
      });
      return { result, calls, toolCalls, repaired, degradedCode: code };
    }
  }

  /**
   * Backtests the proposed rule and repairs it with the model (rule-repair.ts). The analysis
   * itself stands whatever happens here: a rule that is not accepted is dropped with a note
   * (detect then synthesizes one offline); a rule that cannot be scored is kept (detect scores it).
   */
  async #checkRule(
    answer: Omit<AnalysisResult, 'analyst'>,
    input: AnalyseInput,
    run: RunOutcome,
    traceId: string,
    signal: AbortSignal,
    calls: LlmCallWire[],
    callerSignal: AbortSignal | undefined,
  ): Promise<{ answer: Omit<AnalysisResult, 'analyst'>; ruleCheck?: RuleRepairOutcome }> {
    const L = this.#limits;
    const rule = answer.proposedRule!;
    const prompt = run.prompt;
    const ref: PromptRef = { name: prompt.name, version: prompt.version, hash: prompt.hash };
    let tokens = run.tokens;
    let outcome: RuleRepairOutcome;
    try {
      outcome = await scoreAndRepairRule(rule, {
        gateway: this.#o.tools!,
        input,
        scope: scopeOf(input),
        // A fencer of its own: the analysis may have spent its data budget; same nonce rules.
        fencer: new Fencer({
          ...(this.#o.nonce ? { nonce: this.#o.nonce() } : {}),
          maxFenceChars: L.render.maxEventChars,
          maxTotalChars: L.maxDataChars,
        }),
        system: prompt.system,
        render: L.render,
        maxRounds: L.maxRuleRepairRounds,
        tokensLeft: () => L.maxTotalTokens - tokens,
        complete: async (messages) => {
          const response = await this.#call(messages, undefined, prompt, ref, traceId, signal, calls, {
            name: RULE_REPAIR_SCHEMA_NAME,
            schema: RULE_REPAIR_JSON_SCHEMA,
          });
          tokens += response.usage.inputTokens + response.usage.outputTokens;
          return response;
        },
        signal,
      });
    } catch (err) {
      if (callerSignal?.aborted) throw err;
      const { reason } = this.#explain(err, signal.aborted && !callerSignal?.aborted);
      outcome = { status: 'dropped', rounds: [], reason: `the rule check stopped: ${reason}` };
    }
    const log = { incidentId: input.incident.id, trace_id: traceId, rounds: outcome.rounds.length };
    switch (outcome.status) {
      case 'accepted':
        this.#o.logger?.info(
          { ...log, backtest: backtestSummary(outcome.backtest) },
          'proposed rule accepted by the backtest',
        );
        return { answer: { ...answer, proposedRule: outcome.rule }, ruleCheck: outcome };
      case 'unscored':
        this.#o.logger?.warn(
          { ...log, reason: outcome.reason },
          'proposed rule kept unscored: backtest unavailable',
        );
        return { answer: { ...answer, proposedRule: outcome.rule }, ruleCheck: outcome };
      case 'dropped': {
        this.#o.logger?.info({ ...log, reason: outcome.reason }, 'proposed rule dropped');
        const note = `\n\nThe proposed Falco rule was dropped: ${stripInvisible(truncateText(outcome.reason, 600))}. Detect synthesizes one offline.`;
        const { proposedRule: _dropped, ...rest } = answer;
        const explanation = `${truncateText(answer.explanation, 8000 - note.length - 20)}${note}`;
        return { answer: { ...rest, explanation }, ruleCheck: outcome };
      }
    }
  }

  #explain(err: unknown, timedOut: boolean): { code: string; reason: string } {
    if (timedOut)
      return {
        code: 'ANALYSE_LLM_TIMEOUT',
        reason: `LLM analysis timed out after ${this.#limits.timeoutMs} ms`,
      };
    if (err instanceof Degrade) return { code: err.code, reason: err.message };
    if (isFalconerError(err)) return { code: err.code, reason: `${err.code}: ${err.message}` };
    // A bug or an unexpected failure (e.g. the MCP server broke mid-call): flagged, logged, never hidden.
    const message = err instanceof Error ? err.message : String(err);
    return { code: 'ANALYSE_LLM_FAILED', reason: `LLM analysis failed: ${message}` };
  }

  async #run(
    input: AnalyseInput,
    traceId: string,
    signal: AbortSignal,
    calls: LlmCallWire[],
    toolCalls: ToolCallRecord[],
  ): Promise<RunOutcome> {
    const L = this.#limits;
    const prompt = this.#prompt();
    const ref: PromptRef = { name: prompt.name, version: prompt.version, hash: prompt.hash };
    const fencer = new Fencer({
      ...(this.#o.nonce ? { nonce: this.#o.nonce() } : {}),
      maxFenceChars: L.render.maxEventChars,
      maxTotalChars: L.maxDataChars,
    });
    const scope = scopeOf(input);
    let bridge: ToolBridge | undefined;
    if (this.#o.tools && L.maxToolRounds > 0) {
      try {
        bridge = await ToolBridge.open(this.#o.tools, scope, fencer, {
          maxResultChars: L.maxToolResultChars,
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw err;
        // No tools is a poorer analysis, not a failed one: go single-shot and say so in the log.
        this.#o.logger?.warn(
          { trace_id: traceId, err: (err as Error).message },
          'MCP tools unavailable; single-shot analysis',
        );
      }
    }
    const citable = citableInputIds(input);
    const template = prompt.templates.user ?? BUILTIN_ANALYSIS_PROMPT.templates.user ?? '{{events}}';
    const user = fillTemplate(template, {
      incident: renderIncident(input, fencer),
      workload: renderWorkload(input, fencer),
      events: renderEvents(input, fencer, L.render),
    });
    const messages: ChatMessage[] = [
      {
        role: 'system',
        content: `${prompt.system}\n\n${fencer.notice()}\n\n${OUTPUT_RULES(ActionKind.options)}`,
      },
      { role: 'user', content: user },
    ];
    let tokens = 0;
    let rounds = 0;
    let callsMade = 0;
    let repaired = false;
    const repair = (problems: string[]): void => {
      repaired = true;
      messages.push({
        role: 'user',
        content: `Your previous answer was rejected:\n${problems.map((p) => `- ${p}`).join('\n')}\nReply again with only the corrected JSON object.`,
      });
    };

    for (;;) {
      const response = await this.#call(messages, bridge, prompt, ref, traceId, signal, calls);
      tokens += response.usage.inputTokens + response.usage.outputTokens;
      const wantsTools = response.toolCalls.length > 0 && response.finishReason !== 'length';
      if (wantsTools) {
        messages.push({ role: 'assistant', content: response.content, toolCalls: response.toolCalls });
        rounds++;
        const over =
          bridge === undefined ||
          rounds > L.maxToolRounds ||
          callsMade + response.toolCalls.length > L.maxToolCalls;
        if (over) {
          // Every call must be answered before the conversation goes on (both wire protocols require it).
          for (const c of response.toolCalls)
            messages.push(toolMessage(c, 'Tool error: not run, the tool budget of this analysis is spent.'));
          if (repaired)
            throw new Degrade(
              'ANALYSE_LLM_TOOL_LOOP',
              `the model kept calling tools after ${rounds} round(s) and ${callsMade} call(s) and a request to answer`,
            );
          repair([
            bridge === undefined
              ? 'no tools are available in this analysis: answer now from the events given'
              : `you have used the tool budget (${L.maxToolRounds} rounds, ${L.maxToolCalls} calls): answer now, with no more tool calls`,
          ]);
          continue;
        }
        if (tokens > L.maxTotalTokens)
          throw new Degrade(
            'ANALYSE_LLM_TOKEN_LIMIT',
            `the analysis used ${tokens} tokens (limit ${L.maxTotalTokens}) before answering`,
          );
        for (const c of response.toolCalls) {
          const r = await bridge!.call(c, signal);
          callsMade++;
          toolCalls.push(r.record);
          for (const id of r.eventIds) citable.add(id);
          messages.push(toolMessage(c, r.content));
        }
        continue;
      }
      const check = checkAnswer(response, { citable, maxAnswerChars: L.maxAnswerChars });
      if (check.ok) return { result: check.result, repaired, tokens, prompt };
      if (repaired)
        throw new Degrade(
          'ANALYSE_LLM_INVALID_ANSWER',
          `invalid LLM answer after a repair round: ${check.problems.join('; ')}`,
        );
      if (tokens > L.maxTotalTokens)
        throw new Degrade(
          'ANALYSE_LLM_TOKEN_LIMIT',
          `the analysis used ${tokens} tokens (limit ${L.maxTotalTokens}); no room for a repair round`,
        );
      // Echo a bounded copy of the rejected answer so the model sees what it said.
      messages.push({ role: 'assistant', content: truncateText(response.content, 2000) });
      repair(check.problems);
    }
  }

  async #call(
    messages: ChatMessage[],
    bridge: ToolBridge | undefined,
    prompt: LoadedPrompt,
    ref: PromptRef,
    traceId: string,
    signal: AbortSignal,
    calls: LlmCallWire[],
    responseSchema: { name: string; schema: Record<string, unknown> } = {
      name: ANALYSIS_SCHEMA_NAME,
      schema: ANALYSIS_JSON_SCHEMA,
    },
  ): Promise<ChatResponse> {
    const started = performance.now();
    const client = this.#o.client;
    try {
      const { response, record } = await client.complete(
        {
          messages: [...messages],
          ...(bridge && bridge.specs.length > 0 ? { tools: bridge.specs } : {}),
          responseSchema,
          maxTokens: prompt.model.maxTokens ?? 2048,
          ...(prompt.model.temperature !== undefined ? { temperature: prompt.model.temperature } : {}),
          prompt: ref,
          traceId,
        },
        signal,
      );
      calls.push({
        provider: record.provider,
        model: response.model.slice(0, 200) || record.model,
        prompt: record.prompt,
        traceId,
        attempts: record.attempts,
        durationMs: record.durationMs,
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        outcome: 'ok',
      });
      return response;
    } catch (err) {
      calls.push({
        provider: client.provider.kind,
        model: client.provider.model,
        prompt: ref,
        traceId,
        attempts: 0,
        durationMs: Math.round(performance.now() - started),
        inputTokens: 0,
        outputTokens: 0,
        outcome: isFalconerError(err) ? err.code : 'error',
      });
      throw err;
    }
  }
}

function toolMessage(call: ToolCall, content: string): ChatMessage {
  return { role: 'tool', toolCallId: call.id, name: call.name, content };
}
