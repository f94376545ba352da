/**
 * The A2A request handler behind both transports (JSON-RPC and REST):
 * SendMessage carrying {skill, input} is dispatched to a SkillDefinition
 * after authentication (the TLS peer's SPIFFE id), authorization (the
 * table), input validation and the idempotency check; every call leaves an
 * audit record. Everything else A2A offers (tasks, push notifications,
 * streaming) is delegated to the SDK's DefaultRequestHandler, which has no
 * tasks to show since skills answer with messages.
 */
import type {
  AgentCard,
  CancelTaskRequest,
  DeleteTaskPushNotificationConfigRequest,
  GetExtendedAgentCardRequest,
  GetTaskPushNotificationConfigRequest,
  GetTaskRequest,
  ListTaskPushNotificationConfigsRequest,
  ListTaskPushNotificationConfigsResponse,
  ListTasksRequest,
  ListTasksResponse,
  Message,
  SendMessageRequest,
  StreamResponse,
  SubscribeToTaskRequest,
  Task,
  TaskPushNotificationConfig,
} from '@a2a-js/sdk';
import type { A2ARequestHandler, ServerCallContext, User } from '@a2a-js/sdk/server';
import { UnsupportedOperationError } from '@a2a-js/sdk/errors';
import type { AgentName } from '../agents/contracts.ts';
import { FalconerError, describeError, isFalconerError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { startSpan } from '../telemetry/tracing.ts';
import type { AuditResult, AuditSink } from './audit-sink.ts';
import { authorize, type SkillGrant } from './authz.ts';
import { inputDigest } from './canonical.ts';
import type { WireErrorCode } from './errors.ts';
import type { PeerIdentity } from './identity.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { A2aServerMetrics, ServerOutcome } from './metrics.ts';
import type { AnySkillDefinition, SkillCaller } from './skill.ts';
import {
  isValidMessageId,
  parseSkillCall,
  skillReplyMessage,
  wireError,
  SKILL_ID_MAX,
  type Transport,
} from './wire.ts';

/** Per-request state shared between the HTTP layer and this handler. */
export interface RequestState {
  /** Set once this handler has counted the request in the metrics. */
  counted: boolean;
}

/** The SDK `User` we build from the TLS peer certificate. */
export class PeerUser implements User {
  constructor(
    readonly peer: PeerIdentity | undefined,
    readonly transport: Transport,
    readonly state: RequestState,
  ) {}
  get isAuthenticated(): boolean {
    return this.peer !== undefined;
  }
  get userName(): string {
    return this.peer?.spiffeId ?? '';
  }
}

export interface SkillRequestHandlerDeps {
  readonly agent: AgentName;
  readonly card: AgentCard;
  readonly skills: readonly AnySkillDefinition[];
  readonly audit: AuditSink;
  readonly logger: Logger;
  readonly metrics: A2aServerMetrics;
  readonly idempotency: IdempotencyStore;
  /** The SDK handler for everything but SendMessage. */
  readonly inner: A2ARequestHandler;
  readonly authorizationTable?: readonly SkillGrant[];
}

interface RunResult {
  readonly skill: string;
  readonly output: unknown;
  readonly replayed: boolean;
}

class Refusal extends Error {
  constructor(
    readonly code: WireErrorCode,
    readonly outcome: ServerOutcome,
    readonly audit: AuditResult,
    message: string,
  ) {
    super(message);
  }
}

export class SkillRequestHandler implements A2ARequestHandler {
  private readonly skills: ReadonlyMap<string, AnySkillDefinition>;
  /** Calls running now, by idempotency key: a concurrent duplicate waits for the first. */
  private readonly inflight = new Map<string, { skill: string; result: Promise<RunResult> }>();

  constructor(private readonly deps: SkillRequestHandlerDeps) {
    this.skills = new Map(deps.skills.map((s) => [s.id, s]));
  }

  async getAgentCard(): Promise<AgentCard> {
    return this.deps.card;
  }

  async sendMessage(params: SendMessageRequest, context: ServerCallContext): Promise<Message | Task> {
    const startedAt = performance.now();
    const user = context.user instanceof PeerUser ? context.user : undefined;
    if (user) user.state.counted = true;
    const transport: Transport = user?.transport ?? 'jsonrpc';
    const message = params.message;
    const traceparentIn = message?.metadata?.traceparent ?? params.metadata?.traceparent;
    const parsed = parseSkillCall(message);
    const rawSkill = parsed.ok ? parsed.call.skill : parsed.skill;
    const skillLabel =
      rawSkill !== undefined && this.skills.has(rawSkill)
        ? rawSkill
        : rawSkill === undefined
          ? '-'
          : 'unknown';
    const span = startSpan(`a2a.server ${skillLabel}`, {
      parent: typeof traceparentIn === 'string' ? traceparentIn : undefined,
      kind: 'server',
      attributes: { 'falconer.agent': this.deps.agent, 'falconer.skill': skillLabel },
    });
    const peer = user?.peer;
    const actor = peer?.spiffeId ?? 'unauthenticated';
    const messageId = message?.messageId ?? '';
    const action = `a2a:${this.deps.agent}/${(rawSkill ?? '?').slice(0, SKILL_ID_MAX)}`;
    const digest = inputDigest(parsed.ok ? parsed.call.input : null);
    const log = this.deps.logger.child({
      traceId: span.traceId,
      skill: skillLabel,
      caller: peer?.agent ?? actor.slice(0, 200),
      messageId: messageId.slice(0, 200),
    });
    const finish = (outcome: ServerOutcome): void => {
      this.deps.metrics.requests.inc({ skill: skillLabel, outcome });
      this.deps.metrics.duration.observe(
        { skill: skillLabel, outcome },
        (performance.now() - startedAt) / 1000,
      );
      span.setAttributes({ 'falconer.outcome': outcome });
      if (outcome !== 'ok' && outcome !== 'replayed') span.fail(outcome);
      span.end();
    };
    const audit = async (result: AuditResult, reason?: string): Promise<void> => {
      await this.deps.audit.record({
        actor,
        action,
        inputDigest: digest,
        result,
        traceId: span.traceId,
        messageId: messageId.slice(0, 200),
        ...(reason !== undefined ? { reason: reason.slice(0, 500) } : {}),
      });
    };

    try {
      if (!parsed.ok) throw new Refusal('A2A_INVALID_INPUT', 'invalid_input', 'invalid-input', parsed.reason);
      if (!isValidMessageId(messageId)) {
        throw new Refusal(
          'A2A_INVALID_INPUT',
          'invalid_input',
          'invalid-input',
          'messageId must be 1..200 characters',
        );
      }
      const { skill: skillId, input } = parsed.call;
      const skill = this.skills.get(skillId);
      if (!skill) {
        throw new Refusal(
          'A2A_UNKNOWN_SKILL',
          'unknown_skill',
          'refused',
          `agent ${this.deps.agent} has no skill "${skillId.slice(0, 100)}"; it offers: ${[...this.skills.keys()].join(', ') || 'none'}`,
        );
      }
      const decision = authorize(peer, this.deps.agent, skillId, this.deps.authorizationTable);
      if (!decision.allowed || peer?.agent === undefined) {
        throw new Refusal(
          'A2A_FORBIDDEN',
          'forbidden',
          'refused',
          `caller ${actor} may not call skill ${skillId} on agent ${this.deps.agent}: ${decision.reason}`,
        );
      }
      const caller: SkillCaller = { spiffeId: peer.spiffeId, agent: peer.agent };
      const key = `${caller.spiffeId}\u0000${messageId}`;

      // Registered before any await, so a concurrent duplicate always finds it.
      let entry = this.inflight.get(key);
      const first = entry === undefined;
      if (entry === undefined) {
        const ctx = { caller, messageId, traceparent: span.traceparent, traceId: span.traceId, logger: log };
        const result = this.runOnce(key, skill, input, ctx);
        entry = { skill: skillId, result };
        this.inflight.set(key, entry);
        result.catch(() => {}).finally(() => this.inflight.delete(key));
      }
      const done = await entry.result;
      this.assertSameSkill(done.skill, skillId, messageId);
      const replayed = !first || done.replayed;
      await audit(replayed ? 'replayed' : 'ok');
      log.info({ durationMs: Math.round(performance.now() - startedAt), replayed }, 'a2a call served');
      finish(replayed ? 'replayed' : 'ok');
      return skillReplyMessage({
        output: done.output,
        contextId: message?.contextId ?? '',
        traceparent: span.traceparent,
      });
    } catch (err) {
      const refusal = err instanceof Refusal ? err : this.toRefusal(err, log);
      try {
        await audit(refusal.audit, refusal.message);
      } catch (auditErr) {
        log.error({ err: describeError(auditErr) }, 'audit record failed for a refused a2a call');
      }
      if (refusal.outcome === 'forbidden') log.warn({ reason: refusal.message }, 'a2a call refused');
      else log.info({ code: refusal.code, reason: refusal.message }, 'a2a call rejected');
      finish(refusal.outcome);
      throw wireError(transport, refusal.code, refusal.message, {
        agent: this.deps.agent,
        skill: rawSkill?.slice(0, 100),
        caller: actor,
        traceId: span.traceId,
      });
    }
  }

  private assertSameSkill(recordedSkill: string, skill: string, messageId: string): void {
    if (recordedSkill !== skill) {
      throw new Refusal(
        'A2A_INVALID_INPUT',
        'invalid_input',
        'invalid-input',
        `messageId ${messageId.slice(0, 100)} was already used for skill ${recordedSkill}; choose a new messageId`,
      );
    }
  }

  /** Answers from the idempotency store, or runs the skill and records its output there. */
  private async runOnce(
    key: string,
    skill: AnySkillDefinition,
    input: unknown,
    ctx: Parameters<AnySkillDefinition['handle']>[1],
  ): Promise<RunResult> {
    const recorded = await this.deps.idempotency.get(key);
    if (recorded) return { skill: recorded.skill, output: recorded.output, replayed: true };
    const output = await this.runSkill(skill, input, ctx);
    await this.deps.idempotency.put(key, skill.id, output);
    return { skill: skill.id, output, replayed: false };
  }

  private async runSkill(
    skill: AnySkillDefinition,
    input: unknown,
    ctx: Parameters<AnySkillDefinition['handle']>[1],
  ): Promise<unknown> {
    const parsedInput = skill.input.safeParse(input);
    if (!parsedInput.success) {
      const issues = parsedInput.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new Refusal(
        'A2A_INVALID_INPUT',
        'invalid_input',
        'invalid-input',
        `input of skill ${skill.id} is invalid: ${issues}`,
      );
    }
    const output: unknown = await skill.handle(parsedInput.data, ctx);
    const parsedOutput = skill.output.safeParse(output);
    if (!parsedOutput.success) {
      ctx.logger.error(
        { issues: parsedOutput.error.issues.slice(0, 5) },
        'skill output does not match its schema',
      );
      throw new Refusal(
        'A2A_INVALID_OUTPUT',
        'invalid_output',
        'invalid-output',
        `skill ${skill.id} produced an output that does not match its schema`,
      );
    }
    return parsedOutput.data;
  }

  /** Handler failures: FalconerErrors keep their code and message (designed to be safe); anything else stays private. */
  private toRefusal(err: unknown, log: Logger): Refusal {
    if (isFalconerError(err, 'A2A_INVALID_INPUT'))
      return new Refusal('A2A_INVALID_INPUT', 'invalid_input', 'invalid-input', err.message);
    log.error({ err: describeError(err) }, 'skill handler failed');
    const message =
      err instanceof FalconerError
        ? `skill failed: ${err.code}: ${err.message}`
        : 'skill failed: internal error (see the server log with this traceId)';
    return new Refusal('A2A_SKILL_FAILED', 'failed', 'failed', message);
  }

  sendMessageStream(
    _params: SendMessageRequest,
    _context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    // eslint-disable-next-line require-yield
    return (async function* refuse(): AsyncGenerator<StreamResponse, void, undefined> {
      throw new UnsupportedOperationError(
        'streaming is not offered: Falconer skills answer SendMessage with one message',
      );
    })();
  }

  getAuthenticatedExtendedAgentCard(
    params: GetExtendedAgentCardRequest,
    context: ServerCallContext,
  ): Promise<AgentCard> {
    return this.deps.inner.getAuthenticatedExtendedAgentCard(params, context);
  }
  getTask(params: GetTaskRequest, context: ServerCallContext): Promise<Task> {
    return this.deps.inner.getTask(params, context);
  }
  cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    return this.deps.inner.cancelTask(params, context);
  }
  listTasks(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return this.deps.inner.listTasks(params, context);
  }
  createTaskPushNotificationConfig(
    params: TaskPushNotificationConfig,
    context: ServerCallContext,
  ): Promise<TaskPushNotificationConfig> {
    return this.deps.inner.createTaskPushNotificationConfig(params, context);
  }
  getTaskPushNotificationConfig(
    params: GetTaskPushNotificationConfigRequest,
    context: ServerCallContext,
  ): Promise<TaskPushNotificationConfig> {
    return this.deps.inner.getTaskPushNotificationConfig(params, context);
  }
  listTaskPushNotificationConfigs(
    params: ListTaskPushNotificationConfigsRequest,
    context: ServerCallContext,
  ): Promise<ListTaskPushNotificationConfigsResponse> {
    return this.deps.inner.listTaskPushNotificationConfigs(params, context);
  }
  deleteTaskPushNotificationConfig(
    params: DeleteTaskPushNotificationConfigRequest,
    context: ServerCallContext,
  ): Promise<void> {
    return this.deps.inner.deleteTaskPushNotificationConfig(params, context);
  }
  resubscribe(
    params: SubscribeToTaskRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    return this.deps.inner.resubscribe(params, context);
  }
}
