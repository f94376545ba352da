/**
 * The Falconer skill convention on top of A2A messages (docs/agents.md):
 * request = a message with one data part {skill, input} and metadata
 * {traceparent}; reply = a message with one data part {output}. Refusals are
 * A2A errors whose ErrorInfo carries a Falconer code (reason), domain
 * falconer.dev and metadata; the transport decides the envelope (JSON-RPC
 * code / REST status).
 */
import { randomUUID } from 'node:crypto';
import type { Message, Part } from '@a2a-js/sdk';
import { A2AError } from '@a2a-js/sdk/errors';
import type { WireErrorCode } from './errors.ts';

export const SKILL_ID_MAX = 200;
export const MESSAGE_ID_MAX = 200;
export const FALCONER_ERROR_DOMAIN = 'falconer.dev';
const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const ROLE_USER = 1;
const ROLE_AGENT = 2;

export interface SkillCall {
  readonly skill: string;
  readonly input: unknown;
}

export type ParsedCall = { ok: true; call: SkillCall } | { ok: false; reason: string; skill?: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Extracts {skill, input} from a request message: exactly one data part, nothing else. */
export function parseSkillCall(message: Message | undefined): ParsedCall {
  if (!message) return { ok: false, reason: 'the request has no message' };
  const parts = message.parts ?? [];
  if (parts.length !== 1)
    return { ok: false, reason: `expected exactly one data part, got ${parts.length} parts` };
  const content = parts[0]!.content;
  if (content?.$case !== 'data') return { ok: false, reason: 'the message part is not a data part' };
  const value: unknown = content.value;
  if (!isPlainObject(value)) return { ok: false, reason: 'the data part is not an object {skill, input}' };
  const skill = value.skill;
  if (typeof skill !== 'string' || skill.length === 0 || skill.length > SKILL_ID_MAX) {
    return { ok: false, reason: `data part field "skill" must be a string of 1..${SKILL_ID_MAX} characters` };
  }
  if (!('input' in value)) return { ok: false, reason: 'data part has no field "input"', skill };
  return { ok: true, call: { skill, input: value.input } };
}

function dataPart(value: unknown): Part {
  return {
    content: { $case: 'data', value },
    metadata: undefined,
    filename: '',
    mediaType: 'application/json',
  };
}

/** The request message for a skill call. */
export function skillRequestMessage(opts: {
  messageId: string;
  skill: string;
  input: unknown;
  traceparent: string;
}): Message {
  return {
    messageId: opts.messageId,
    contextId: '',
    taskId: '',
    role: ROLE_USER,
    parts: [dataPart({ skill: opts.skill, input: opts.input })],
    metadata: { traceparent: opts.traceparent },
    extensions: [],
    referenceTaskIds: [],
  };
}

/** The reply message carrying a skill's output. */
export function skillReplyMessage(opts: {
  output: unknown;
  contextId: string;
  traceparent: string;
}): Message {
  return {
    messageId: randomUUID(),
    contextId: opts.contextId,
    taskId: '',
    role: ROLE_AGENT,
    parts: [dataPart({ output: opts.output })],
    metadata: { traceparent: opts.traceparent },
    extensions: [],
    referenceTaskIds: [],
  };
}

/** Extracts `output` from a reply message. */
export function parseSkillReply(
  message: Message,
): { ok: true; output: unknown } | { ok: false; reason: string } {
  const parts = message.parts ?? [];
  if (parts.length !== 1)
    return { ok: false, reason: `reply has ${parts.length} parts, expected one data part` };
  const content = parts[0]!.content;
  if (content?.$case !== 'data' || !isPlainObject(content.value) || !('output' in content.value)) {
    return { ok: false, reason: 'reply part is not a data part {output}' };
  }
  return { ok: true, output: content.value.output };
}

export type Transport = 'jsonrpc' | 'rest';

interface WireMapping {
  /** The SDK's semantic error name; its spec makes the SDK include our ErrorInfo in the JSON-RPC `data`. */
  readonly sdkName: string;
  readonly jsonRpcCode: number;
  readonly httpStatus: number;
}

/** JSON-RPC codes follow A2A where one fits; -32050 is Falconer's "permission denied" (implementation-defined range). */
export const WIRE_ERROR_MAPPING: Readonly<Record<WireErrorCode, WireMapping>> = {
  A2A_FORBIDDEN: { sdkName: 'UnsupportedOperationError', jsonRpcCode: -32050, httpStatus: 403 },
  A2A_UNKNOWN_SKILL: { sdkName: 'UnsupportedOperationError', jsonRpcCode: -32004, httpStatus: 404 },
  A2A_INVALID_INPUT: { sdkName: 'RequestMalformedError', jsonRpcCode: -32602, httpStatus: 400 },
  A2A_INVALID_OUTPUT: { sdkName: 'InvalidAgentResponseError', jsonRpcCode: -32006, httpStatus: 500 },
  A2A_SKILL_FAILED: { sdkName: 'InvalidAgentResponseError', jsonRpcCode: -32603, httpStatus: 500 },
};

/**
 * An A2A error the SDK transports serialize as-is: JSON-RPC uses
 * `envelopeCode` and includes `toErrorInfo()` in `data`; REST uses
 * `statusCode` and puts the ErrorInfo in `details`.
 */
class FalconerWireError extends A2AError {
  override readonly reason: string;
  readonly transport: Transport;
  readonly envelopeCode: number;
  readonly statusCode: number;
  private readonly info: Record<string, string>;

  constructor(transport: Transport, code: WireErrorCode, message: string, metadata: Record<string, string>) {
    super({ message });
    const mapping = WIRE_ERROR_MAPPING[code];
    this.name = mapping.sdkName;
    this.reason = code;
    this.transport = transport;
    this.envelopeCode = mapping.jsonRpcCode;
    this.statusCode = mapping.httpStatus;
    this.info = metadata;
  }

  override toErrorInfo(): ReturnType<A2AError['toErrorInfo']> {
    return {
      '@type': ERROR_INFO_TYPE,
      reason: this.reason,
      domain: FALCONER_ERROR_DOMAIN as never,
      metadata: { falconerCode: this.reason, ...this.info },
    };
  }
}

/** Builds the refusal to throw from the request handler. Metadata values are truncated to 300 chars. */
export function wireError(
  transport: Transport,
  code: WireErrorCode,
  message: string,
  metadata: Record<string, string | undefined> = {},
): A2AError {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (v !== undefined) meta[k] = v.slice(0, 300);
  return new FalconerWireError(transport, code, message.slice(0, 2000), meta);
}

/** Reads a Falconer ErrorInfo out of a JSON-RPC error `data` array or REST `details`. */
export function falconerErrorInfo(
  details: unknown,
): { reason: string; metadata: Record<string, string> } | undefined {
  if (!Array.isArray(details)) return undefined;
  for (const d of details) {
    if (isPlainObject(d) && d.domain === FALCONER_ERROR_DOMAIN && typeof d.reason === 'string') {
      const metadata: Record<string, string> = {};
      if (isPlainObject(d.metadata)) {
        for (const [k, v] of Object.entries(d.metadata)) if (typeof v === 'string') metadata[k] = v;
      }
      return { reason: d.reason, metadata };
    }
  }
  return undefined;
}

export function isValidMessageId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MESSAGE_ID_MAX;
}
