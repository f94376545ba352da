/**
 * A real HTTP server on 127.0.0.1:0 speaking the OpenAI chat-completions and
 * Anthropic Messages wire protocols. It replays a queue of scripted replies
 * (recorded-response shapes below, tool calls included) and can be told to
 * answer 429/500 or to hang. Every request is recorded for assertions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  { kind: 'json'; body: unknown; status?: number; headers?: Record<string, string> } | { kind: 'hang' };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** Computes a reply from the request (used when the queue is empty). */
export type Responder = (req: RecordedRequest) => Reply;

export interface FakeLlmServer {
  url: string;
  /** Requests seen, in order (empty when started with `record: false`). */
  requests: RecordedRequest[];
  /** Counters kept even when requests are not recorded. */
  stats: { requests: number; bodyBytes: number };
  /** Queue replies; served in order, one per request. When empty, the responder (if any) answers, else 500. */
  enqueue(...replies: Reply[]): void;
  /** Set (or clear) the function that answers when the queue is empty. */
  respond(responder: Responder | undefined): void;
  close(): Promise<void>;
}

export async function startFakeLlmServer(opts: { record?: boolean } = {}): Promise<FakeLlmServer> {
  const queue: Reply[] = [];
  const requests: RecordedRequest[] = [];
  const stats = { requests: 0, bodyBytes: 0 };
  let responder: Responder | undefined;
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      };
      stats.requests++;
      stats.bodyBytes += chunks.reduce((n, c) => n + c.length, 0);
      if (opts.record !== false) requests.push(recorded);
      const known = url.pathname.endsWith('/chat/completions') || url.pathname.endsWith('/v1/messages');
      if (req.method !== 'POST' || !known) return send(res, 404, { error: { message: 'not found' } });
      const reply = queue.shift() ?? responder?.(recorded);
      if (!reply) return send(res, 500, { error: { message: 'fake-llm-server: no scripted reply' } });
      if (reply.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      send(res, reply.status ?? 200, reply.body, reply.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stats,
    enqueue: (...replies) => queue.push(...replies),
    respond: (fn) => {
      responder = fn;
    },
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// --- Recorded response shapes (as the real APIs send them) ---

export function openAiText(content: string, usage = { prompt_tokens: 120, completion_tokens: 30 }): Reply {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-9xRecorded01',
      object: 'chat.completion',
      created: 1_726_000_000,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      system_fingerprint: 'fp_recorded',
    },
  };
}

export function openAiToolCall(name: string, args: Record<string, unknown>, id = 'call_Recorded01'): Reply {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-9xRecorded02',
      object: 'chat.completion',
      created: 1_726_000_001,
      model: 'gpt-4o-mini-2024-07-18',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
            refusal: null,
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 210, completion_tokens: 25, total_tokens: 235 },
    },
  };
}

export function anthropicText(text: string, usage = { input_tokens: 110, output_tokens: 28 }): Reply {
  return {
    kind: 'json',
    body: {
      id: 'msg_01Recorded',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage,
    },
  };
}

export function anthropicToolUse(
  name: string,
  input: Record<string, unknown>,
  id = 'toolu_01Recorded',
): Reply {
  return {
    kind: 'json',
    body: {
      id: 'msg_02Recorded',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [
        { type: 'text', text: 'Let me look at the events.' },
        { type: 'tool_use', id, name, input },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 205, output_tokens: 40 },
    },
  };
}

export function errorReply(status: number, headers: Record<string, string> = {}, message = 'error'): Reply {
  return { kind: 'json', status, headers, body: { error: { message, type: 'server_error' } } };
}
