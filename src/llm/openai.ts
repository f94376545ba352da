/**
 * OpenAI-compatible chat completions: OpenAI, Azure OpenAI (api-key header +
 * api-version query), vLLM, Ollama, llama.cpp server, LiteLLM.
 */
import { LlmAttemptError } from './errors.ts';
import { postJson } from './http.ts';
import type {
  ChatMessage,
  ChatProvider,
  ChatRequest,
  ChatResponse,
  FinishReason,
  ToolCall,
} from './types.ts';

export interface OpenAiProviderOptions {
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
  timeoutMs: number;
  /** Set for Azure OpenAI: sends `api-key` instead of a bearer token and adds `?api-version=`. */
  azureApiVersion?: string;
}

export class OpenAiCompatibleProvider implements ChatProvider {
  readonly kind: string;
  readonly model: string;
  readonly #opts: OpenAiProviderOptions;

  constructor(opts: OpenAiProviderOptions) {
    this.#opts = opts;
    this.model = opts.model;
    this.kind = opts.azureApiVersion ? 'azure-openai' : 'openai';
  }

  async complete(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse> {
    const o = this.#opts;
    const url = new URL(`${o.baseUrl.replace(/\/+$/, '')}/chat/completions`);
    const headers: Record<string, string> = {};
    if (o.azureApiVersion) {
      url.searchParams.set('api-version', o.azureApiVersion);
      if (o.apiKey) headers['api-key'] = o.apiKey;
    } else if (o.apiKey) {
      headers.authorization = `Bearer ${o.apiKey}`;
    }
    const raw = await postJson({
      url: url.toString(),
      headers,
      body: toOpenAiBody(this.model, req),
      timeoutMs: o.timeoutMs,
      signal,
      secret: o.apiKey,
      provider: this.kind,
    });
    return fromOpenAiResponse(raw, this.model, this.kind);
  }
}

export function toOpenAiBody(model: string, req: ChatRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { model, messages: req.messages.map(toOpenAiMessage) };
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.parameters },
    }));
  }
  if (req.responseSchema) {
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: req.responseSchema.name, schema: req.responseSchema.schema, strict: true },
    };
  }
  if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  return body;
}

function toOpenAiMessage(m: ChatMessage): Record<string, unknown> {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls?.length
          ? {
              tool_calls: m.toolCalls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: JSON.stringify(c.arguments) },
              })),
            }
          : {}),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}

const FINISH: Record<string, FinishReason> = {
  stop: 'stop',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  length: 'length',
  content_filter: 'content_filter',
};

function bad(kind: string, what: string): LlmAttemptError {
  return new LlmAttemptError('LLM_BAD_RESPONSE', `LLM provider ${kind} sent an unreadable answer: ${what}`, {
    retryable: false,
  });
}

export function fromOpenAiResponse(raw: unknown, model: string, kind: string): ChatResponse {
  const r = raw as {
    model?: unknown;
    choices?: { message?: { content?: unknown; tool_calls?: unknown }; finish_reason?: unknown }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  const choice = Array.isArray(r?.choices) ? r.choices[0] : undefined;
  if (!choice || typeof choice.message !== 'object' || choice.message === null)
    throw bad(kind, 'no choices[0].message');
  const content = typeof choice.message.content === 'string' ? choice.message.content : '';
  const toolCalls = parseOpenAiToolCalls(choice.message.tool_calls, kind);
  const finish =
    typeof choice.finish_reason === 'string' ? (FINISH[choice.finish_reason] ?? 'other') : 'other';
  return {
    content,
    toolCalls,
    finishReason: toolCalls.length > 0 && finish === 'stop' ? 'tool_calls' : finish,
    usage: { inputTokens: count(r.usage?.prompt_tokens), outputTokens: count(r.usage?.completion_tokens) },
    model: typeof r.model === 'string' ? r.model : model,
  };
}

function parseOpenAiToolCalls(value: unknown, kind: string): ToolCall[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw bad(kind, 'tool_calls is not an array');
  return value.map((c: { id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => {
    if (typeof c?.id !== 'string' || typeof c.function?.name !== 'string')
      throw bad(kind, 'tool call without id or name');
    return { id: c.id, name: c.function.name, arguments: parseArguments(c.function.arguments, kind) };
  });
}

/** Tool arguments arrive as a JSON string (OpenAI) or an object (some servers). */
export function parseArguments(value: unknown, kind: string): Record<string, unknown> {
  let parsed: unknown = value ?? {};
  if (typeof value === 'string') {
    try {
      parsed = value.trim() === '' ? {} : JSON.parse(value);
    } catch {
      throw bad(kind, 'tool call arguments are not JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw bad(kind, 'tool call arguments are not an object');
  }
  return parsed as Record<string, unknown>;
}

export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0;
}
