/** The one normalized request/response shape every provider speaks. */

export type JsonSchema = Record<string, unknown>;

export interface ToolCall {
  /** Provider-assigned id; echoed back in the tool message that answers it. */
  id: string;
  name: string;
  /** Parsed arguments (providers send a JSON string or an object). */
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: JsonSchema;
}

/** Identifies the prompt behind a call, recorded with every call (metrics label + log). */
export interface PromptRef {
  name: string;
  version: string;
  hash: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** Ask for a JSON answer matching this schema (OpenAI json_schema; Anthropic: forced tool). */
  responseSchema?: { name: string; schema: JsonSchema };
  maxTokens?: number;
  temperature?: number;
  prompt: PromptRef;
  traceId?: string;
}

export type FinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResponse {
  /** Assistant text; for structured output, the JSON text. */
  content: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The model the provider says answered. */
  model: string;
}

/** One transport to one provider. Throws LlmAttemptError; retries/budgets live in LlmClient. */
export interface ChatProvider {
  readonly kind: string;
  readonly model: string;
  complete(req: ChatRequest, signal: AbortSignal): Promise<ChatResponse>;
}
