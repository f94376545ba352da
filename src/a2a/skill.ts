/** A skill an agent serves over A2A: wire schemas plus a handler. */
import type { z } from 'zod';
import type { PeerName } from '../agents/contracts.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface SkillCaller {
  readonly spiffeId: string;
  /** An agent, or `mcp` (the MCP tool server). */
  readonly agent: PeerName;
}

export interface SkillContext {
  readonly caller: SkillCaller;
  /** The caller-chosen A2A messageId (the idempotency key). */
  readonly messageId: string;
  /** The traceparent of this server span: pass it on to any downstream A2A call. */
  readonly traceparent: string;
  readonly traceId: string;
  /** A child logger with traceId, skill, caller and messageId bound. */
  readonly logger: Logger;
}

export interface SkillDefinition<I = unknown, O = unknown> {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly tags?: readonly string[];
  readonly input: z.ZodType<I>;
  readonly output: z.ZodType<O>;
  handle(input: I, ctx: SkillContext): Promise<O>;
}

// A list of skills has heterogeneous I/O types; the server only passes each its own parsed input.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySkillDefinition = SkillDefinition<any, any>;

/** Identity function that keeps I/O inference at the definition site. */
export function defineSkill<I, O>(def: SkillDefinition<I, O>): SkillDefinition<I, O> {
  return def;
}
