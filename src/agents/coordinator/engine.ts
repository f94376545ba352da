/**
 * The coordinator's engine: turns signals into incidents and drives each one
 * through the state machine by calling the peer agents.
 *
 * Crash safety: every transition is committed (with its timeline row, and the
 * notifications / feedback it decides, queued in the outbox) before any side
 * effect runs. The step for a state only reads persisted state and calls a
 * peer with a deterministic messageId, so `resume()` after a crash simply
 * re-runs the step of every open incident and flushes every pending outbox
 * row; the peer deduplicates the repeated message, and a notification's
 * dedupeKey is recorded once, so none is ever issued twice.
 *
 * Late signals (reanalysis.ts): a signal the analysis has not seen, joining
 * an incident that waits for a decision, requests a re-analysis (a timeline
 * note); requests are coalesced and run at most once per
 * `reanalysisIntervalMs`; the new analysis replaces the old, proposals are
 * proposed again only if they changed, and approvals stand only for unchanged
 * actions. A signal for a workload whose incident is closed opens a follow-up
 * incident linked to it.
 *
 * Peer failures leave the incident in its state (attempts and last error are
 * persisted, metrics count them) and the step is retried with backoff.
 * Incidents are serialized one by one and run concurrently up to a limit; a
 * peer call has a timeout, so a stuck peer never holds a slot for ever.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { FalconerError, describeError, isFalconerError } from '../../errors.ts';
import { digestOf } from '../../store/audit-log.ts';
import type { Store } from '../../store/db.ts';
import { getProcessed, putProcessed } from '../../store/idempotency.ts';
import type { Logger } from '../../telemetry/logger.ts';
import {
  ActionProposal,
  AnalysisResult,
  ExecuteOutput,
  FeedbackOutput,
  NotifyOutput,
  ProposeOutput,
  SignalReportInput,
  type FeedbackInput,
  type NotificationKind,
  type NotifyInput,
  type SignalReportOutput,
} from '../contracts.ts';
import {
  approvalOutcome,
  approvalsRequired,
  needsHuman,
  proposalState,
  type ApprovalDecision,
} from './approvals.ts';
import { KeyedLock, Semaphore } from './concurrency.ts';
import {
  appendTimeline,
  collectEventIds,
  collectEvents,
  enqueueOutbox,
  findIncident,
  getIncident,
  loadApprovals,
  loadReports,
  pendingOutbox,
  priorIncidents,
  readTimeline,
  summarize,
  transition,
  type Db,
  type Incident,
  type TransitionArgs,
} from './incident-repo.ts';
import { markLinkUsed, type LinkClaims, type LinkSigner } from './link-tokens.ts';
import { createCoordinatorMetrics, type CoordinatorMetrics } from './metrics.ts';
import {
  childTraceparent,
  newTraceId,
  traceIdOf,
  type AuditSinkLike,
  type CoordinatorPeers,
  type PeerContext,
} from './peers.ts';
import {
  groupSignal,
  incidentSeverity,
  isOpen,
  type IncidentStatus,
  type OpenIncidentRef,
} from './state-machine.ts';
import {
  DEFAULT_FIRST_REANALYSIS_DELAY_MS,
  DEFAULT_REANALYSIS_INTERVAL_MS,
  REANALYSABLE_STATUSES,
  analysisRounds,
  diffProposals,
  followUpOf,
  isNovel,
  reanalysisDecision,
  roundSuffix,
  type LateSignalDetail,
  type SignalDigest,
} from './reanalysis.ts';
import './errors.ts';

export interface CoordinatorOptions {
  store: Store;
  peers: CoordinatorPeers;
  logger: Logger;
  audit: AuditSinkLike;
  linkSigner: LinkSigner;
  /** Base URL of the HITL API as humans reach it (approve / reject links, incident links). */
  publicUrl: string;
  /** A signal joins its workload's open incident when that incident's last signal is this recent. */
  windowMs: number;
  /** How long an incident waits for approvals before it is dismissed as expired. */
  approvalExpiryMs: number;
  clock?: () => number;
  /** Incidents driven at the same time (default 8). */
  concurrency?: number;
  /** A peer call taking longer fails (and is retried) (default 60 s). */
  peerTimeoutMs?: number;
  retry?: { initialMs?: number; maxMs?: number };
  registry?: Registry;
  /** At most one re-analysis per incident this often (default 30 s); late signals in between are coalesced. */
  reanalysisIntervalMs?: number;
  /** The first re-analysis may come this soon after the analysis (default 2 s; capped by the interval). */
  firstReanalysisDelayMs?: number;
  /** Called when an analysis or a human says true_positive (rule proposals hook in here). */
  onTruePositive?: (incidentId: string) => void;
}

const MAX_EVENTS_FOR_ANALYSIS = 500;
const SYSTEM_ACTOR = 'coordinator';

interface DriveSlot {
  again: boolean;
  done: Promise<void>;
}

export class Coordinator {
  private readonly store: Store;
  private readonly db: Db;
  private readonly peers: CoordinatorPeers;
  private readonly logger: Logger;
  private readonly audit: AuditSinkLike;
  private readonly links: LinkSigner;
  private readonly publicUrl: string;
  private readonly windowMs: number;
  private readonly approvalExpiryMs: number;
  private readonly clock: () => number;
  private readonly peerTimeoutMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly reanalysisIntervalMs: number;
  private readonly firstReanalysisDelayMs: number;
  private readonly slots = new Map<string, DriveSlot>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();
  private readonly calls = new Set<AbortController>();
  private readonly semaphore: Semaphore;
  private readonly workloadLock = new KeyedLock();
  readonly metrics: CoordinatorMetrics;
  private readonly onTruePositive: ((incidentId: string) => void) | undefined;
  private closed = false;

  constructor(opts: CoordinatorOptions) {
    this.store = opts.store;
    this.db = opts.store.db;
    this.peers = opts.peers;
    this.logger = opts.logger;
    this.audit = opts.audit;
    this.links = opts.linkSigner;
    this.publicUrl = opts.publicUrl.replace(/\/+$/, '');
    this.windowMs = opts.windowMs;
    this.approvalExpiryMs = opts.approvalExpiryMs;
    this.clock = opts.clock ?? Date.now;
    this.peerTimeoutMs = opts.peerTimeoutMs ?? 60_000;
    this.retryInitialMs = opts.retry?.initialMs ?? 1000;
    this.retryMaxMs = opts.retry?.maxMs ?? 60_000;
    this.semaphore = new Semaphore(opts.concurrency ?? 8);
    this.reanalysisIntervalMs = opts.reanalysisIntervalMs ?? DEFAULT_REANALYSIS_INTERVAL_MS;
    this.firstReanalysisDelayMs = opts.firstReanalysisDelayMs ?? DEFAULT_FIRST_REANALYSIS_DELAY_MS;
    this.metrics = createCoordinatorMetrics(opts.registry ?? new Registry(), opts.store);
    this.onTruePositive = opts.onTruePositive;
  }

  // ---------------------------------------------------------------- signals

  /**
   * `signal.report`: groups the signal into an incident (opening one when
   * needed) and starts driving it. Idempotent per messageId: a repeated
   * message gets the recorded answer and changes nothing.
   */
  async onSignal(
    report: SignalReportInput,
    ctx: { messageId: string; traceparent?: string },
  ): Promise<SignalReportOutput> {
    return (await this.onSignalTraced(report, ctx)).output;
  }

  /** onSignal, also saying the incident's trace id (a joining signal has a trace of its own). */
  async onSignalTraced(
    report: SignalReportInput,
    ctx: { messageId: string; traceparent?: string },
  ): Promise<{ output: SignalReportOutput; traceId: string | undefined }> {
    const input = SignalReportInput.parse(report);
    const recorded = await getProcessed(this.db, ctx.messageId);
    if (recorded !== undefined) {
      const out = recorded as SignalReportOutput;
      return { output: out, traceId: (await findIncident(this.db, out.incidentId))?.traceId };
    }
    const workloadKey = input.signal.workload.key;
    // One workload at a time, so two signals of a workload cannot both open an incident.
    const { output, traceId, late } = await this.workloadLock.run(workloadKey, () =>
      this.db.transaction().execute((trx) => this.groupIn(trx, input, ctx)),
    );
    if (
      output.created ||
      late.reanalysis ||
      (await findIncident(this.db, output.incidentId))?.status === 'new'
    ) {
      this.schedule(output.incidentId);
    }
    await this.audit.record({
      actor: 'detect',
      action: output.created ? 'incident.opened' : 'incident.signal',
      inputDigest: digestOf(input),
      result: 'ok',
      traceId,
      detail: {
        incidentId: output.incidentId,
        signalId: input.signal.id,
        kind: input.kind,
        ...(late.reanalysis ? { reanalysisRequested: true } : {}),
        ...(late.follows !== undefined ? { followsIncidentId: late.follows } : {}),
      },
    });
    return { output, traceId };
  }

  private async groupIn(
    trx: Db,
    input: SignalReportInput,
    ctx: { messageId: string; traceparent?: string },
  ): Promise<{
    output: SignalReportOutput;
    traceId: string;
    late: { reanalysis: boolean; follows?: string };
  }> {
    const recorded = await getProcessed(trx, ctx.messageId);
    if (recorded !== undefined) {
      const out = recorded as SignalReportOutput;
      const inc = await findIncident(trx, out.incidentId);
      return { output: out, traceId: inc?.traceId ?? newTraceId(), late: { reanalysis: false } };
    }
    const now = this.clock();
    const { signal } = input;
    // A signal already attached to an incident stays with it (an update of a closed incident is recorded only).
    const owner = await trx
      .selectFrom('incident_signals')
      .innerJoin('incidents', 'incidents.id', 'incident_signals.incident_id')
      .select(['incidents.id as id', 'incidents.status as status', 'incident_signals.report as report'])
      .where('incident_signals.signal_id', '=', signal.id)
      .orderBy('incidents.created_at', 'desc')
      .executeTakeFirst();
    let incidentId = owner?.id;
    let follows: string | undefined;
    // An update of a closed incident's signal is recorded there, unless it brings something new: then
    // it is grouped afresh (an open incident of the workload, or a follow-up of the closed one).
    if (owner && !isOpen(owner.status as IncidentStatus) && isNovel(storedSignal(owner.report), signal)) {
      incidentId = undefined;
      follows = owner.id;
    }
    if (incidentId === undefined) {
      const candidates = await trx
        .selectFrom('incidents')
        .select(['id', 'workload_key', 'status', 'last_signal_at'])
        .where('workload_key', '=', signal.workload.key)
        .where('status', 'not in', ['resolved', 'dismissed'])
        .execute();
      const decision = groupSignal(
        { workloadKey: signal.workload.key, atMs: signal.lastSeenMs },
        candidates.map((c): OpenIncidentRef => ({
          id: c.id,
          workloadKey: c.workload_key,
          status: c.status as IncidentStatus,
          lastSignalAtMs: Number(c.last_signal_at),
        })),
        this.windowMs,
      );
      if (decision.kind === 'join') incidentId = decision.incidentId;
    }
    if (incidentId === undefined && follows === undefined) {
      const closed = await trx
        .selectFrom('incidents')
        .select(['id', 'last_signal_at'])
        .where('workload_key', '=', signal.workload.key)
        .where('status', 'in', ['resolved', 'dismissed'])
        .orderBy('last_signal_at', 'desc')
        .limit(20)
        .execute();
      follows = followUpOf(
        signal.lastSeenMs,
        closed.map((c) => ({ id: c.id, lastSignalAtMs: Number(c.last_signal_at) })),
        this.windowMs,
      );
    }
    let created = false;
    let reanalysis = false;
    /** Whether responders were already told about the incident (its approval request went out). */
    let notifiedStatus = false;
    let traceId: string;
    if (incidentId === undefined) {
      created = true;
      incidentId = `inc-${randomUUID()}`;
      traceId = traceIdOf(ctx.traceparent) ?? newTraceId();
      await trx
        .insertInto('incidents')
        .values({
          id: incidentId,
          workload_key: signal.workload.key,
          workload: JSON.stringify(signal.workload),
          status: 'new',
          severity: incidentSeverity(signal.priorityLevel),
          priority_level: signal.priorityLevel,
          trace_id: traceId,
          created_at: now,
          updated_at: now,
          last_signal_at: signal.lastSeenMs,
          analysis: null,
          proposals: null,
          executions: null,
          approval_expires_at: null,
          reason: null,
          verdict: null,
          attempts: 0,
          last_error: null,
        })
        .execute();
      await trx
        .insertInto('incident_timeline')
        .values({
          incident_id: incidentId,
          seq: 1,
          from_status: null,
          to_status: 'new',
          at: now,
          actor: 'detect',
          reason:
            follows === undefined
              ? `signal ${signal.id} opened the incident`
              : `signal ${signal.id} opened the incident, a follow-up of the closed incident ${follows}`,
          detail: JSON.stringify({
            signalId: signal.id,
            rules: signal.rules,
            ...(follows !== undefined ? { followsIncidentId: follows } : {}),
          }),
        })
        .execute();
      if (follows !== undefined) {
        const old = await getIncident(trx, follows);
        const detail: LateSignalDetail = { signalId: signal.id, followUpIncidentId: incidentId };
        await appendTimeline(trx, follows, {
          from: old.status,
          to: old.status,
          at: now,
          actor: 'detect',
          reason: `signal ${signal.id} came after this incident was ${old.status}: follow-up incident ${incidentId}`,
          detail,
        });
      }
      this.metrics.transitions.inc({ to: 'new' });
    } else {
      const inc = await getIncident(trx, incidentId);
      traceId = inc.traceId;
      notifiedStatus = inc.status === 'awaiting_approval';
      if (REANALYSABLE_STATUSES.includes(inc.status)) {
        const previous = await trx
          .selectFrom('incident_signals')
          .select('report')
          .where('incident_id', '=', incidentId)
          .where('signal_id', '=', signal.id)
          .executeTakeFirst();
        if (isNovel(previous && storedSignal(previous.report), signal)) {
          // The request is a timeline note: persisted with the signal, so a restart still honours it.
          reanalysis = true;
          const detail: LateSignalDetail = { reanalysis: 'requested', signalId: signal.id };
          await appendTimeline(trx, incidentId, {
            from: inc.status,
            to: inc.status,
            at: now,
            actor: 'detect',
            reason: `late signal ${signal.id} (${signal.rules.slice(0, 3).join(', ')}) joined after the analysis: re-analysis requested`,
            detail,
          });
        }
      }
      const priorityLevel = Math.min(inc.priorityLevel, signal.priorityLevel);
      await trx
        .updateTable('incidents')
        .set({
          last_signal_at: Math.max(inc.lastSignalAt, signal.lastSeenMs),
          priority_level: priorityLevel,
          severity: incidentSeverity(priorityLevel, inc.analysis?.severity),
          updated_at: now,
        })
        .where('id', '=', incidentId)
        .execute();
    }
    await trx
      .insertInto('incident_signals')
      .values({
        incident_id: incidentId,
        signal_id: signal.id,
        report: JSON.stringify(input),
        received_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['incident_id', 'signal_id'])
          .doUpdateSet({ report: JSON.stringify(input), received_at: now }),
      )
      .execute();
    if (reanalysis && notifiedStatus) {
      // Told at once, not when the (rate-limited) re-analysis comes round: a new stage of an attack
      // on an incident awaiting approval is what a responder must see before approving. (Earlier, the
      // notification still to come — approval needed, resolved — tells it.)
      await this.enqueueUpdateNotification(trx, incidentId, signal, ctx.messageId);
    }
    const output: SignalReportOutput = { incidentId, created };
    await putProcessed(trx, ctx.messageId, 'signal.report', output, now);
    return {
      output,
      traceId,
      late: { reanalysis, ...(follows !== undefined && created ? { follows } : {}) },
    };
  }

  // ---------------------------------------------------------------- driving

  /** Re-drives every open incident and flushes every pending side effect (call on start). */
  async resume(): Promise<number> {
    const open = await this.db
      .selectFrom('incidents')
      .select('id')
      .where('status', 'not in', ['resolved', 'dismissed'])
      .execute();
    const withOutbox = await this.db
      .selectFrom('outbox')
      .select('incident_id as id')
      .distinct()
      .where('status', '=', 'pending')
      .execute();
    const ids = new Set([...open, ...withOutbox].map((r) => r.id));
    for (const id of ids) this.schedule(id);
    this.logger.info({ incidents: ids.size }, 'coordinator resumed incidents');
    return ids.size;
  }

  /** Resolves when no incident is being driven (timers for retries and expiry may still be pending). */
  async idle(): Promise<void> {
    while (this.slots.size > 0) await Promise.all([...this.slots.values()].map((s) => s.done));
  }

  /** Stops driving: cancels timers, aborts peer calls in flight, waits for the drives to settle. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const c of this.calls) c.abort(new FalconerError('PEER_FAILED', 'the coordinator is stopping', {}));
    await this.idle();
  }

  /** Drives the incident now (or once more after its current drive, which is never concurrent). */
  schedule(incidentId: string): void {
    if (this.closed) return;
    const existing = this.slots.get(incidentId);
    if (existing) {
      existing.again = true;
      return;
    }
    const timer = this.timers.get(incidentId);
    if (timer) {
      clearTimeout(timer.timer);
      this.timers.delete(incidentId);
    }
    const slot: DriveSlot = { again: false, done: Promise.resolve() };
    slot.done = (async () => {
      do {
        slot.again = false;
        await this.semaphore.run(() => this.drive(incidentId));
      } while (slot.again && !this.closed);
    })().finally(() => this.slots.delete(incidentId));
    this.slots.set(incidentId, slot);
  }

  /** Drives the incident after the delay; the earliest of several wake-ups wins (each drive re-arms what it needs). */
  private scheduleAt(incidentId: string, delayMs: number): void {
    if (this.closed) return;
    const delay = Math.max(0, Math.min(delayMs, 2 ** 31 - 1));
    const dueAt = Date.now() + delay;
    const prev = this.timers.get(incidentId);
    if (prev) {
      if (prev.dueAt <= dueAt) return;
      clearTimeout(prev.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(incidentId);
      this.schedule(incidentId);
    }, delay);
    timer.unref();
    this.timers.set(incidentId, { timer, dueAt });
  }

  private async drive(incidentId: string): Promise<void> {
    try {
      for (let guard = 0; guard < 20 && !this.closed; guard++) {
        const incident = await getIncident(this.db, incidentId);
        const progressed = await this.step(incident);
        if (!progressed) break;
      }
      await this.flushOutbox(incidentId);
    } catch (err) {
      if (this.closed) return;
      if (isFalconerError(err, 'INCIDENT_CONFLICT')) {
        this.schedule(incidentId); // someone else moved it (a human verdict): look again
        return;
      }
      await this.recordFailure(incidentId, err);
    }
  }

  /** Runs the step of the incident's state; true when it moved to a state with more to do. */
  private async step(incident: Incident): Promise<boolean> {
    switch (incident.status) {
      case 'new':
        await this.move(incident, { to: 'analysing', reason: 'analysis requested' });
        return true;
      case 'analysing':
        return this.analyse(incident);
      case 'proposed':
        return (await this.reanalyseIfDue(incident)) || this.propose(incident);
      case 'awaiting_approval':
        return (await this.reanalyseIfDue(incident)) || this.checkApprovals(incident);
      case 'remediating':
        return this.remediate(incident);
      case 'resolved':
      case 'dismissed':
        return false;
    }
  }

  /**
   * Late signals asked for a re-analysis: back to analysing once the last
   * analysis is `reanalysisIntervalMs` old (a wake-up is set for then). The
   * old analysis and proposals stay until the new ones replace them.
   */
  private async reanalyseIfDue(incident: Incident): Promise<boolean> {
    const rounds = analysisRounds(await readTimeline(this.db, incident.id));
    const now = this.clock();
    const decision = reanalysisDecision(
      rounds,
      incident.status,
      now,
      this.reanalysisIntervalMs,
      this.firstReanalysisDelayMs,
    );
    if (decision.kind === 'none') return false;
    if (decision.kind === 'later') {
      this.scheduleAt(incident.id, decision.inMs);
      return false;
    }
    const signals = rounds.requestedBy;
    const detail: LateSignalDetail & { round: number; signals: readonly string[] } = {
      reanalysis: 'started',
      round: rounds.round + 1,
      signals,
    };
    await this.move(incident, {
      to: 'analysing',
      reason: `re-analysis: ${signals.length} late signal(s) since the last analysis (${signals.slice(0, 5).join(', ')})`,
      detail,
    });
    return true;
  }

  private async analyse(incident: Incident): Promise<boolean> {
    const reports = await loadReports(this.db, incident.id);
    const { round } = analysisRounds(await readTimeline(this.db, incident.id));
    const prior = await priorIncidents(this.db, incident, reports, this.windowMs);
    const analysis = AnalysisResult.parse(
      await this.call('analyse', incident, `${incident.id}:analyse${roundSuffix(round)}`, (ctx) =>
        this.peers.analyse(
          {
            incident: summarize(incident, reports),
            events: collectEvents(reports, MAX_EVENTS_FOR_ANALYSIS),
            ...(prior.length > 0 && { prior }),
          },
          ctx,
        ),
      ),
    );
    const severity = incidentSeverity(incident.priorityLevel, analysis.severity);
    const set = { analysis: JSON.stringify(analysis), severity };
    if (analysis.verdict === 'false_positive') {
      // Signals that joined while this analysis ran were not in it: one of them may be the attack.
      // Analyse again with them rather than dismiss (and so bury) them.
      const late = analysisRounds(await readTimeline(this.db, incident.id));
      if (late.requestedBy.length > 0) {
        const detail: LateSignalDetail & { round: number; signals: readonly string[] } = {
          reanalysis: 'started',
          round: late.round + 1,
          signals: late.requestedBy,
        };
        await this.move(incident, {
          to: 'analysing',
          actor: 'analyse',
          reason: `analysis: false positive, but ${late.requestedBy.length} signal(s) joined while it ran (${late.requestedBy.slice(0, 5).join(', ')}): analysing again`,
          detail,
          set,
        });
        return true;
      }
      await this.dismiss({ ...incident, analysis, severity }, 'analysis: false positive', 'analyse', set, {
        verdict: 'false_positive',
        eventIds: collectEventIds(reports, 1000),
        key: 'analysis',
      });
      return false;
    }
    await this.move(incident, {
      to: 'proposed',
      actor: 'analyse',
      reason: `${round > 1 ? 're-' : ''}analysis: ${analysis.verdict} (${analysis.severity}, confidence ${analysis.confidence})`,
      detail: {
        verdict: analysis.verdict,
        severity: analysis.severity,
        analyst: analysis.analyst,
        ...(round > 1 ? { round } : {}),
      },
      set,
    });
    if (analysis.verdict === 'true_positive') this.onTruePositive?.(incident.id);
    return true;
  }

  private async propose(incident: Incident): Promise<boolean> {
    const analysis = incident.analysis;
    if (!analysis)
      throw new FalconerError('INCIDENT_CONFLICT', 'proposed incident has no analysis', {
        incidentId: incident.id,
      });
    const reports = await loadReports(this.db, incident.id);
    const { round } = analysisRounds(await readTimeline(this.db, incident.id));
    const out = ProposeOutput.parse(
      await this.call('propose', incident, `${incident.id}:propose${roundSuffix(round)}`, (ctx) =>
        this.peers.propose({ incident: summarize(incident, reports), analysis }, ctx),
      ),
    );
    const fresh = uniqueById(out.proposals);
    // After a re-analysis: unchanged actions keep their proposal, approvals, links and deadline.
    const previous = round > 1 ? incident.proposals : undefined;
    const diff = previous !== undefined ? diffProposals(previous, fresh) : undefined;
    if (
      diff?.unchanged === true &&
      incident.approvalExpiresAt !== undefined &&
      needsHuman(previous!) &&
      this.clock() < incident.approvalExpiresAt
    ) {
      await this.move(incident, {
        to: 'awaiting_approval',
        actor: 'remediate',
        reason: 'proposals unchanged after the re-analysis: pending approvals stand',
        detail: { round, proposals: previous!.map((p) => p.id) },
      });
      return true;
    }
    const proposals = fresh;
    const set = { proposals: JSON.stringify(proposals) };
    const withProposals: Incident = { ...incident, proposals };
    const actionable = proposals.filter((p) => approvalsRequired(p) !== undefined);
    if (actionable.length === 0) {
      await this.dismiss(
        withProposals,
        proposals.length === 0
          ? 'nothing to do: no action proposed'
          : 'nothing to do: policy refused every action',
        'remediate',
        set,
      );
      return false;
    }
    if (!needsHuman(proposals)) {
      await this.move(incident, {
        to: 'remediating',
        actor: 'remediate',
        reason: 'policy allows every proposed action without approval',
        detail: { proposals: proposals.map((p) => p.id) },
        set,
        // People hear of the attack when containment starts, not once every action has run.
        notify: {
          kind: 'remediation.started',
          as: { ...withProposals, status: 'remediating' },
          reports,
          round,
        },
      });
      return true;
    }
    const now = this.clock();
    const expiresAt = now + this.approvalExpiryMs;
    const links: NotifyInput['links'] = {};
    for (const p of proposals) {
      if ((approvalsRequired(p) ?? 0) === 0) continue;
      const sign = (action: 'approve' | 'reject') =>
        `${this.publicUrl}/api/links/${this.links.sign({ incidentId: incident.id, proposalId: p.id, action, expiresAt })}`;
      links[p.id] = { approve: sign('approve'), reject: sign('reject') };
    }
    const awaiting: Incident = {
      ...withProposals,
      status: 'awaiting_approval',
      approvalExpiresAt: expiresAt,
    };
    await this.db.transaction().execute(async (trx) => {
      // Approvals of an action that changed (or vanished) were given for something else.
      if (diff !== undefined && diff.invalidated.length > 0) {
        await trx
          .deleteFrom('approvals')
          .where('incident_id', '=', incident.id)
          .where('proposal_id', 'in', [...diff.invalidated])
          .execute();
      }
      await transition(trx, incident.id, {
        from: 'proposed',
        to: 'awaiting_approval',
        at: now,
        actor: 'remediate',
        reason: `${Object.keys(links).length} proposed action(s) need approval${round > 1 ? ' (proposed again after the re-analysis)' : ''}`,
        detail: {
          ...(round > 1 ? { round, invalidatedApprovals: diff?.invalidated ?? [] } : {}),
          proposals: proposals.map((p) => ({
            id: p.id,
            kind: p.kind,
            required: approvalsRequired(p) ?? null,
          })),
        },
        set: { ...set, approval_expires_at: expiresAt },
      });
      await this.enqueueNotification(trx, awaiting, 'approval.needed', reports, links, round);
    });
    this.afterTransition(incident, 'awaiting_approval', 'remediate');
    return true;
  }

  private async checkApprovals(incident: Incident): Promise<boolean> {
    const proposals = incident.proposals ?? [];
    const now = this.clock();
    if (incident.approvalExpiresAt !== undefined && now >= incident.approvalExpiresAt) {
      await this.dismiss(incident, 'approval expired: no decision before the deadline', SYSTEM_ACTOR);
      return false;
    }
    const outcome = approvalOutcome(proposals, await loadApprovals(this.db, incident.id));
    if (!outcome) {
      if (incident.approvalExpiresAt !== undefined)
        this.scheduleAt(incident.id, incident.approvalExpiresAt - now);
      return false;
    }
    if (outcome.approved.length === 0) {
      await this.dismiss(incident, 'every proposed action was rejected or refused', SYSTEM_ACTOR);
      return false;
    }
    await this.move(incident, {
      to: 'remediating',
      reason: `${outcome.approved.length} action(s) approved`,
      detail: { approved: outcome.approved.map((p) => p.id) },
    });
    return true;
  }

  private async remediate(incident: Incident): Promise<boolean> {
    // remediation.started goes out while the actions run: a slow chat endpoint must not delay containment.
    // Both finish before incident.resolved is queued, so the two notifications go out in order.
    const [executed, notified] = await Promise.allSettled([
      this.runApproved(incident),
      this.flushOutbox(incident.id),
    ]);
    if (executed.status === 'rejected') {
      if (notified.status === 'rejected')
        this.logger.error(
          { incidentId: incident.id, traceId: incident.traceId, err: describeError(notified.reason) },
          'outbox flush failed while actions ran',
        );
      throw executed.reason;
    }
    if (notified.status === 'rejected') throw notified.reason;
    const executions = executed.value;
    const statuses = Object.entries(executions).map(([id, r]) => [id, r.status] as const);
    await this.move(incident, {
      to: 'resolved',
      actor: 'remediate',
      reason: `actions done: ${statuses.map(([id, st]) => `${id}=${st}`).join(', ') || 'none'}`,
      detail: { executions: Object.fromEntries(statuses) },
      notify: {
        kind: 'incident.resolved',
        as: { ...incident, status: 'resolved', executions },
        reports: await loadReports(this.db, incident.id),
      },
    });
    return false;
  }

  /** Executes the approved actions not yet executed, in order, persisting each result at once. */
  private async runApproved(incident: Incident): Promise<Record<string, ExecuteOutput>> {
    const approvals = await loadApprovals(this.db, incident.id);
    const toRun = (incident.proposals ?? []).filter((p) => proposalState(p, approvals) === 'approved');
    const executions = { ...incident.executions };
    for (const proposal of toRun) {
      if (executions[proposal.id]) continue;
      const mine = approvals
        .filter((a) => a.proposalId === proposal.id && a.decision === 'approve')
        .map((a) => ({ by: a.by, at: a.at }));
      const result = ExecuteOutput.parse(
        await this.call('execute', incident, `${incident.id}:execute:${proposal.id}`, (ctx) =>
          this.peers.execute({ incidentId: incident.id, proposal, approvals: mine }, ctx),
        ),
      );
      executions[proposal.id] = result;
      // Persist each result at once, so a crash after it never executes the action again.
      await this.db
        .updateTable('incidents')
        .set({ executions: JSON.stringify(executions), updated_at: this.clock() })
        .where('id', '=', incident.id)
        .execute();
      await this.audit.record({
        actor: 'remediate',
        action: 'action.executed',
        inputDigest: digestOf(proposal),
        result: result.status,
        traceId: incident.traceId,
        detail: {
          incidentId: incident.id,
          proposalId: proposal.id,
          kind: proposal.kind,
          reason: result.reason,
        },
      });
    }
    return executions;
  }

  // ------------------------------------------------------------ transitions

  /** One transition, and the notification it announces (if any) queued in the same transaction. */
  private async move(
    incident: Incident,
    t: {
      to: IncidentStatus;
      reason: string;
      actor?: string;
      detail?: unknown;
      set?: TransitionArgs['set'];
      notify?: {
        kind: NotificationKind;
        as: Incident;
        reports: Parameters<typeof summarize>[1];
        round?: number;
      };
    },
  ): Promise<void> {
    const actor = t.actor ?? SYSTEM_ACTOR;
    await this.db.transaction().execute(async (trx) => {
      await transition(trx, incident.id, {
        from: incident.status,
        to: t.to,
        at: this.clock(),
        actor,
        reason: t.reason,
        ...(t.detail !== undefined ? { detail: t.detail } : {}),
        ...(t.set ? { set: t.set } : {}),
      });
      if (t.notify)
        await this.enqueueNotification(trx, t.notify.as, t.notify.kind, t.notify.reports, {}, t.notify.round);
    });
    this.afterTransition(incident, t.to, actor, t.reason);
  }

  /** Dismissal, its notification and (for a false positive) feedback to detect, in one transaction. */
  private async dismiss(
    incident: Incident,
    reason: string,
    actor: string,
    set: TransitionArgs['set'] = {},
    feedback?: { verdict: FeedbackInput['verdict']; eventIds: string[]; key: string },
    trxIn?: Db,
  ): Promise<void> {
    const reports = await loadReports(trxIn ?? this.db, incident.id);
    const body = async (trx: Db) => {
      await transition(trx, incident.id, {
        from: incident.status,
        to: 'dismissed',
        at: this.clock(),
        actor,
        reason,
        set: { ...set, reason },
      });
      if (feedback) await this.enqueueFeedback(trx, incident.id, feedback);
      await this.enqueueNotification(
        trx,
        { ...incident, status: 'dismissed', reason },
        'incident.dismissed',
        reports,
      );
    };
    if (trxIn) {
      await body(trxIn); // the caller reports the transition once its transaction commits
      return;
    }
    await this.db.transaction().execute(body);
    this.afterTransition(incident, 'dismissed', actor, reason);
  }

  private afterTransition(incident: Incident, to: IncidentStatus, actor: string, reason?: string): void {
    this.metrics.transitions.inc({ to });
    this.logger.info(
      { incidentId: incident.id, traceId: incident.traceId, from: incident.status, to, actor },
      'incident transition',
    );
    void this.audit
      .record({
        actor,
        action: 'incident.transition',
        inputDigest: digestOf({ incidentId: incident.id, from: incident.status, to }),
        result: to,
        traceId: incident.traceId,
        detail: { incidentId: incident.id, from: incident.status, to, ...(reason ? { reason } : {}) },
      })
      .catch((err: unknown) => this.logger.error({ err: describeError(err) }, 'audit append failed'));
  }

  private async enqueueNotification(
    trx: Db,
    incident: Incident,
    kind: NotificationKind,
    reports: Parameters<typeof summarize>[1],
    links: NotifyInput['links'] = {},
    round = 1,
    extra: { revision?: string; update?: NotifyInput['update'] } = {},
  ): Promise<void> {
    // A re-proposal after a re-analysis is a new notification (round 2, 3…); a retry of one is not.
    // An update names its own revision (one per late signal).
    const revision = extra.revision ?? String(Math.max(1, round));
    const dedupeKey = `${incident.id}:${kind}:${revision}`;
    const input: NotifyInput = {
      kind,
      dedupeKey,
      incident: summarize(incident, reports),
      ...(incident.analysis ? { analysis: incident.analysis } : {}),
      proposals: incident.proposals ?? [],
      links,
      incidentUrl: `${this.publicUrl}/api/incidents/${encodeURIComponent(incident.id)}`,
      ...(extra.update !== undefined ? { update: extra.update } : {}),
    };
    await enqueueOutbox(
      trx,
      {
        messageId: `${incident.id}:notify:${kind}${extra.revision !== undefined ? `:${extra.revision}` : roundSuffix(round)}`,
        incidentId: incident.id,
        skill: 'notify',
        payload: input,
        at: this.clock(),
      },
      { dedupeKey, kind },
    );
  }

  /** incident.updated for a late signal that requested a re-analysis; keyed by the report's message id. */
  private async enqueueUpdateNotification(
    trx: Db,
    incidentId: string,
    signal: SignalReportInput['signal'],
    reportMessageId: string,
  ): Promise<void> {
    const incident = await getIncident(trx, incidentId);
    await this.enqueueNotification(
      trx,
      incident,
      'incident.updated',
      await loadReports(trx, incident.id),
      {},
      1,
      {
        revision: createHash('sha256').update(reportMessageId).digest('hex').slice(0, 24),
        update: {
          signalId: signal.id,
          rules: signal.rules.slice(0, 64),
          priorityLevel: signal.priorityLevel,
        },
      },
    );
  }

  private async enqueueFeedback(
    trx: Db,
    incidentId: string,
    f: { verdict: FeedbackInput['verdict']; eventIds: string[]; key: string },
  ): Promise<void> {
    const input: FeedbackInput = { incidentId, verdict: f.verdict, eventIds: f.eventIds };
    await enqueueOutbox(trx, {
      messageId: `${incidentId}:feedback:${f.key}:${f.verdict}`,
      incidentId,
      skill: 'feedback',
      payload: input,
      at: this.clock(),
    });
  }

  /** Delivers the incident's queued notifications and feedback, in order; stops at the first failure. */
  private async flushOutbox(incidentId: string): Promise<void> {
    const items = await pendingOutbox(this.db, incidentId);
    if (items.length === 0) return;
    const incident = await getIncident(this.db, incidentId);
    for (const item of items) {
      try {
        const output =
          item.skill === 'notify'
            ? NotifyOutput.parse(
                await this.call('notify', incident, item.messageId, (ctx) =>
                  this.peers.notify(item.payload as NotifyInput, ctx),
                ),
              )
            : FeedbackOutput.parse(
                await this.call('feedback', incident, item.messageId, (ctx) =>
                  this.peers.feedback(item.payload as FeedbackInput, ctx),
                ),
              );
        const now = this.clock();
        await this.db.transaction().execute(async (trx) => {
          await trx
            .updateTable('outbox')
            .set({
              status: 'done',
              done_at: now,
              output: JSON.stringify(output),
              attempts: item.attempts + 1,
            })
            .where('message_id', '=', item.messageId)
            .execute();
          if (item.skill === 'notify') {
            await trx
              .updateTable('notifications')
              .set({ sent_at: now })
              .where('dedupe_key', '=', (item.payload as NotifyInput).dedupeKey)
              .execute();
          }
        });
      } catch (err) {
        await this.db
          .updateTable('outbox')
          .set({ attempts: item.attempts + 1, last_error: describeError(err).slice(0, 2000) })
          .where('message_id', '=', item.messageId)
          .execute();
        this.retryLater(incidentId, item.attempts + 1, err, item.skill);
        return;
      }
    }
  }

  // ------------------------------------------------------------ peer calls

  private async call<T>(
    skill: string,
    incident: Incident,
    messageId: string,
    fn: (ctx: PeerContext) => Promise<T>,
  ): Promise<T> {
    // A drive that reaches a call after close() aborted the others must not start a new one.
    if (this.closed) throw new FalconerError('PEER_FAILED', 'the coordinator is stopping', { skill });
    const controller = new AbortController();
    this.calls.add(controller);
    const timer = setTimeout(
      () =>
        controller.abort(
          new FalconerError('PEER_TIMEOUT', `the ${skill} peer did not answer in time`, {
            skill,
            incidentId: incident.id,
            timeoutMs: this.peerTimeoutMs,
          }),
        ),
      this.peerTimeoutMs,
    );
    timer.unref();
    try {
      const ctx: PeerContext = {
        messageId,
        traceparent: childTraceparent(incident.traceId),
        signal: controller.signal,
      };
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), {
          once: true,
        });
      });
      aborted.catch(() => undefined);
      const out = await Promise.race([fn(ctx), aborted]);
      this.metrics.peerCalls.inc({ skill, outcome: 'ok' });
      return out;
    } catch (err) {
      this.metrics.peerCalls.inc({ skill, outcome: 'error' });
      this.metrics.peerFailures.inc({ skill });
      if (isFalconerError(err)) throw err;
      throw new FalconerError(
        'PEER_FAILED',
        `the ${skill} peer failed: ${describeError(err).slice(0, 500)}`,
        { skill, incidentId: incident.id, messageId },
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
      this.calls.delete(controller);
    }
  }

  private async recordFailure(incidentId: string, err: unknown): Promise<void> {
    let attempts = 1;
    try {
      const inc = await findIncident(this.db, incidentId);
      attempts = (inc?.attempts ?? 0) + 1;
      await this.db
        .updateTable('incidents')
        .set({ attempts, last_error: describeError(err).slice(0, 2000), updated_at: this.clock() })
        .where('id', '=', incidentId)
        .execute();
    } catch (dbErr) {
      this.logger.error({ incidentId, err: describeError(dbErr) }, 'cannot record a step failure');
    }
    this.retryLater(incidentId, attempts, err);
  }

  private retryLater(incidentId: string, attempts: number, err: unknown, skill?: string): void {
    const base = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(attempts - 1, 30));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.logger.warn(
      { incidentId, attempts, retryInMs: delay, err: describeError(err), ...(skill ? { skill } : {}) },
      'incident step failed; will retry',
    );
    this.scheduleAt(incidentId, delay);
  }

  // ------------------------------------------------------- human decisions

  /**
   * Records an approval or rejection of one proposal by one person. Refused
   * when the incident is not awaiting approval (409), the deadline passed
   * (410), the proposal needs no approval or is decided (409), or this person
   * already decided on it (409: four eyes means two distinct people).
   */
  async decide(args: {
    incidentId: string;
    proposalId: string;
    decision: ApprovalDecision;
    by: string;
    via: 'api' | 'link';
    link?: LinkClaims;
  }): Promise<{ proposalState: string; incidentStatus: IncidentStatus }> {
    const now = this.clock();
    const incident = await this.db.transaction().execute(async (trx) => {
      const inc = await getIncident(trx, args.incidentId);
      // A replayed link is told so, whatever happened to the proposal since (rolled back if refused below).
      if (args.link) await markLinkUsed(trx, args.link, now);
      const proposal = inc.proposals?.find((p) => p.id === args.proposalId);
      if (!proposal) {
        throw new FalconerError('PROPOSAL_NOT_FOUND', 'no such proposal on this incident', {
          incidentId: args.incidentId,
          proposalId: args.proposalId,
        });
      }
      if (inc.status !== 'awaiting_approval') {
        throw new FalconerError(
          'APPROVAL_NOT_ALLOWED',
          `the incident is ${inc.status}, not awaiting approval`,
          {
            incidentId: inc.id,
            status: inc.status,
          },
        );
      }
      if (inc.approvalExpiresAt !== undefined && now >= inc.approvalExpiresAt) {
        throw new FalconerError('APPROVAL_EXPIRED', 'the approval deadline of this incident has passed', {
          incidentId: inc.id,
        });
      }
      // Links carry the deadline of the proposal round they were issued for; a re-proposal sets a new one.
      if (args.link && inc.approvalExpiresAt !== undefined && args.link.expiresAt !== inc.approvalExpiresAt) {
        throw new FalconerError(
          'APPROVAL_EXPIRED',
          'this link was issued for an earlier proposal of this incident; use the newest notification',
          { incidentId: inc.id, proposalId: args.proposalId },
        );
      }
      if ((approvalsRequired(proposal) ?? 0) === 0) {
        throw new FalconerError(
          'APPROVAL_NOT_ALLOWED',
          'this proposal needs no approval (or policy refused it)',
          {
            incidentId: inc.id,
            proposalId: proposal.id,
          },
        );
      }
      const approvals = await loadApprovals(trx, inc.id);
      const state = proposalState(proposal, approvals);
      if (state !== 'pending') {
        throw new FalconerError('APPROVAL_NOT_ALLOWED', `this proposal is already ${state}`, {
          incidentId: inc.id,
          proposalId: proposal.id,
        });
      }
      if (approvals.some((a) => a.proposalId === proposal.id && a.by === args.by)) {
        throw new FalconerError('APPROVAL_DUPLICATE', 'this person has already decided on this proposal', {
          incidentId: inc.id,
          proposalId: proposal.id,
          by: args.by,
        });
      }
      await trx
        .insertInto('approvals')
        .values({
          incident_id: inc.id,
          proposal_id: proposal.id,
          by: args.by,
          decision: args.decision,
          at: now,
          via: args.via,
        })
        .execute();
      return inc;
    });
    await this.audit.record({
      actor: args.by,
      action: `proposal.${args.decision}`,
      inputDigest: digestOf({
        incidentId: args.incidentId,
        proposalId: args.proposalId,
        decision: args.decision,
      }),
      result: 'recorded',
      traceId: incident.traceId,
      detail: { incidentId: args.incidentId, proposalId: args.proposalId, via: args.via },
    });
    this.schedule(args.incidentId);
    const after = await loadApprovals(this.db, args.incidentId);
    const proposal = incident.proposals!.find((p) => p.id === args.proposalId)!;
    return { proposalState: proposalState(proposal, after), incidentStatus: incident.status };
  }

  /**
   * A human verdict: recorded, sent to detect as feedback (through the
   * outbox), and a false positive dismisses the incident if it is still open.
   */
  async setVerdict(args: {
    incidentId: string;
    verdict: 'true_positive' | 'false_positive';
    by: string;
  }): Promise<{ incidentStatus: IncidentStatus }> {
    const reason = `verdict by ${args.by}: false positive`;
    const { before, status } = await this.db.transaction().execute(async (trx) => {
      const inc = await getIncident(trx, args.incidentId);
      const reports = await loadReports(trx, inc.id);
      await trx.updateTable('incidents').set({ verdict: args.verdict }).where('id', '=', inc.id).execute();
      const feedback = { verdict: args.verdict, eventIds: collectEventIds(reports, 1000), key: 'verdict' };
      if (args.verdict === 'false_positive' && isOpen(inc.status)) {
        await this.dismiss(inc, reason, args.by, { verdict: args.verdict }, feedback, trx);
        return { before: inc, status: 'dismissed' as IncidentStatus };
      }
      await this.enqueueFeedback(trx, inc.id, feedback);
      return { before: inc, status: inc.status };
    });
    if (status !== before.status) this.afterTransition(before, status, args.by, reason);
    await this.audit.record({
      actor: args.by,
      action: 'incident.verdict',
      inputDigest: digestOf({ incidentId: args.incidentId, verdict: args.verdict }),
      result: args.verdict,
      traceId: before.traceId,
      detail: { incidentId: args.incidentId },
    });
    this.schedule(args.incidentId);
    if (args.verdict === 'true_positive') this.onTruePositive?.(args.incidentId);
    return { incidentStatus: status };
  }
}

/** The rules, priority and behaviours of a stored signal report (what the analysis could have seen). */
function storedSignal(report: string): SignalDigest | undefined {
  try {
    const parsed = JSON.parse(report) as {
      signal?: { rules?: unknown; priorityLevel?: unknown; behaviours?: unknown };
    };
    const s = parsed.signal;
    if (!s || !Array.isArray(s.rules) || typeof s.priorityLevel !== 'number') return undefined;
    const strings = (xs: unknown[]): string[] => xs.filter((x): x is string => typeof x === 'string');
    return {
      rules: strings(s.rules),
      priorityLevel: s.priorityLevel,
      ...(Array.isArray(s.behaviours) && { behaviours: strings(s.behaviours) }),
    };
  } catch {
    return undefined; // unreadable: treated as not seen
  }
}

function uniqueById(proposals: readonly ActionProposal[]): ActionProposal[] {
  const seen = new Set<string>();
  return proposals.filter((p) => (seen.has(p.id) ? false : (seen.add(p.id), true)));
}
