/**
 * Anthropic Messages API. Structured output is done the way Anthropic
 * documents it: a tool whose input schema is the answer schema, forced with
 * tool_choice; its input comes back as the response content (JSON text).
 */
import { LlmAttemptError } from './errors.ts';
import { postJson } from './http.ts';
import { count } from './openai.ts';
import type { ChatProvider, ChatRequest, ChatResponse, FinishReason, ToolCall } from './types.ts';

export const ANTHROPIC_VERSION = '2023-06-01';
const DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicProviderOptions {
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  timeoutMs: number;
}

export class AnthropicProvider implements ChatProvider {
  readonly kind = 'anthropic';
  readonly model: string;
  readonly #opts: AnthropicProviderOptions;

  constructor(opts: AnthropicProviderOptions) {
    this.#opts = opts;
    this.model = opts.model;
  }

  async complete(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    const o = this.#opts;
    const headers: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (o.apiKey) headers['x-api-key'] = o.apiKey;
    const raw = await postJson({
      url: `${o.baseUrl.replace(/\/+$/, '')}/v1/messages`,
      headers,
      body: toAnthropicBody(this.model, req),
      timeoutMs: o.timeoutMs,
      signal,
      secret: o.apiKey,
      provider: this.kind,
    });
    return fromAnthropicResponse(raw, this.model, req.responseSchema?.name);
  }
}

type Block = Record<string, unknown>;

export function toAnthropicBody(model: string, req: ChatRequest): Record<string, unknown> {
  const system = req.messages.flatMap((m) => (m.role === 'system' ? [m.content] : [])).join('\n\n');
  const messages: { role: 'user' | 'assistant'; content: Block[] }[] = [];
  // Anthropic wants alternating turns; tool results ride in a user turn, so merge neighbours.
  const push = (role: 'user' | 'assistant', blocks: Block[]): void => {
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  for (const m of req.messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'tool')
      push('user', [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content }]);
    else if (m.role === 'assistant') {
      const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
      for (const c of m.toolCalls ?? [])
        blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
      push('assistant', blocks);
    }
  }
  const tools = (req.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: t.parameters,
  }));
  const body: Record<string, unknown> = { model, max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS, messages };
  if (system) body.system = system;
  if (req.responseSchema) {
    tools.push({
      name: req.responseSchema.name,
      description: 'Return the final answer with this tool; its input is the answer.',
      input_schema: req.responseSchema.schema,
    });
    // Forcing the answer tool only when no investigation tools are offered: otherwise the model could never call them.
    if (!req.tools?.length) body.tool_choice = { type: 'tool', name: req.responseSchema.name };
  }
  if (tools.length) body.tools = tools;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  return body;
}

const FINISH: Record<string, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  tool_use: 'tool_calls',
  max_tokens: 'length',
  refusal: 'content_filter',
};

export function fromAnthropicResponse(raw: unknown, model: string, answerTool?: string): ChatResponse {
  const r = raw as {
    model?: unknown;
    content?: { type?: unknown; text?: unknown; id?: unknown; name?: unknown; input?: unknown }[];
    stop_reason?: unknown;
    usage?: { input_tokens?: unknown; output_tokens?: unknown };
  };
  if (!Array.isArray(r?.content)) {
    throw new LlmAttemptError(
      'LLM_BAD_RESPONSE',
      'LLM provider anthropic sent an unreadable answer: no content',
      {
        retryable: false,
      },
    );
  }
  let text = '';
  const toolCalls: ToolCall[] = [];
  let answer: string | undefined;
  for (const block of r.content) {
    if (block?.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block?.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      const input =
        typeof block.input === 'object' && block.input !== null && !Array.isArray(block.input)
          ? (block.input as Record<string, unknown>)
          : {};
      if (answerTool !== undefined && block.name === answerTool) answer = JSON.stringify(input);
      else toolCalls.push({ id: block.id, name: block.name, arguments: input });
    }
  }
  let finish = typeof r.stop_reason === 'string' ? (FINISH[r.stop_reason] ?? 'other') : 'other';
  // The forced answer tool is the final answer, not a tool call to run.
  if (answer !== undefined && toolCalls.length === 0 && finish === 'tool_calls') finish = 'stop';
  return {
    content: answer ?? text,
    toolCalls,
    finishReason: finish,
    usage: { inputTokens: count(r.usage?.input_tokens), outputTokens: count(r.usage?.output_tokens) },
    model: typeof r.model === 'string' ? r.model : model,
  };
}
