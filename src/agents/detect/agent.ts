/**
 * The detect agent: ingest → bus → gate (src/agents/detect/service.ts), plus
 * what makes it a member of the platform: every event kept in the bounded
 * event store for context and backtests, signals sent to the coordinator
 * through the outbox with one trace per signal, analysts' verdicts taken back
 * as training feedback, and event queries for the other agents.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Gauge, Counter } from 'prom-client';
import { defineSkill } from '../../a2a/skill.ts';
import { openEventStore } from '../../store/event-store.ts';
import { eventStoreOptions } from '../../store/event-store-config.ts';
import {
  EventsQueryInput,
  EventsQueryOutput,
  FeedbackInput,
  FeedbackOutput,
  SignalReportOutput,
  type EventWire,
} from '../contracts.ts';
import { toSignalWire } from '../event-wire.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';
import { startDetectService } from './service.ts';
import { mcpSkillsOnStore } from '../../mcp/skills/detect.ts';
import { SignalOutbox } from './signal-outbox.ts';
import { ApprovedRules } from './rules/approved.ts';
import { IdleSettler } from './idle-settler.ts';
import { RuleForwarder } from './rules/forwarder.ts';
import { ProposalWorker } from './rules/proposal-worker.ts';
import { ruleSkills } from './rules/skills.ts';
import { SqlOutboxJournal } from './signal-outbox-store.ts';
import { reportEventIds, type SignalUpdate } from '../../gate/signals.ts';
import type { NormalizedEvent } from '../../events/types.ts';

const MAX_EVENTS_PER_REPORT = 50;
const TRACE_MEMORY = 50_000;

export async function createDetectAgent(ctx: AgentContext): Promise<AgentParts> {
  const { config, logger, registry, peers } = ctx;
  const store = await openEventStore(eventStoreOptions(config.eventStore, (f) => join(ctx.dataDir, f)));

  // One trace per signal: it becomes the incident's trace, from here to the notification.
  const traces = new Map<string, string>();
  const traceparentFor = (signalId: string): string => {
    let traceId = traces.get(signalId);
    if (traceId === undefined) {
      traceId = randomBytes(16).toString('hex');
      traces.set(signalId, traceId);
      if (traces.size > TRACE_MEMORY) traces.delete(traces.keys().next().value!);
    }
    return `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
  };

  // Accepted signals survive a crash of detect: pending reports live in detect.db until acknowledged.
  const journal = await SqlOutboxJournal.open(ctx.store);
  const outbox = new SignalOutbox({
    traceparentFor,
    journal,
    onJournalError: (err) =>
      logger.error({ err: String(err) }, 'cannot write the signal outbox journal; delivering from memory'),
    send: async (message) => {
      await peers.call('coordinator', 'signal.report', message.report, SignalReportOutput, {
        messageId: message.messageId,
        traceparent: message.traceparent,
      });
    },
    onError: (err, message, attempt) =>
      logger.warn(
        {
          err: String(err),
          signalId: message.report.signal.id,
          attempt,
          traceId: message.traceparent.slice(3, 35),
        },
        'signal report not delivered yet; retrying',
      ),
  });
  const restored = await outbox.restore();
  if (restored > 0) logger.info({ restored }, 'signal reports from before the restart queued again');
  new Gauge({
    name: 'falconer_signal_outbox_depth',
    help: 'Signal reports waiting to be delivered to the coordinator',
    registers: [registry],
    collect() {
      this.set(outbox.depth);
    },
  });
  const reportsSent = new Counter({
    name: 'falconer_signal_reports_total',
    help: 'Signal reports handed to the outbox, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });

  const onSignal = (update: SignalUpdate): Promise<void> => {
    const signal = toSignalWire(update.signal);
    const events: EventWire[] = [];
    for (const id of reportEventIds(update.signal, MAX_EVENTS_PER_REPORT)) {
      const ev = store.get(id);
      if (ev) events.push(ev);
    }
    if (update.kind === 'opened') {
      const traceId = traceparentFor(signal.id).slice(3, 35);
      logger.info({ traceId, signalId: signal.id, workload: signal.workload.key }, 'signal opened');
    }
    reportsSent.inc({ kind: update.kind });
    return outbox.push({ kind: update.kind, signal, events });
  };

  // Approved Falconer rules (rules.apply) persist in this agent's state database and see every gated event.
  const approvedRules = new ApprovedRules(ctx.store);
  await approvedRules.load((proposalId, err) =>
    logger.error({ proposalId, err: String(err) }, 'approved rules no longer compile; skipped'),
  );
  // rules.propose backtests on a worker thread, off the event loop that ingests and gates.
  const proposals = new ProposalWorker(store, { logger, maxCpuShare: config.rules.proposalCpuShare });
  const ruleForwarder = new RuleForwarder({
    rules: approvedRules,
    registry,
    signalWindowMs: config.gate.signalWindowMs,
  });

  // Events no signal carries are stored when detect has nothing to gate (see IdleSettler).
  let gatingPending = (): boolean => false;
  const settler = new IdleSettler(store, () => gatingPending());
  new Gauge({
    name: 'falconer_detect_store_pending_events',
    help: 'Gated events not forwarded, waiting to be stored until detect has nothing to gate',
    registers: [registry],
    collect() {
      this.set(store.pendingCount);
    },
  });
  const keep = (event: NormalizedEvent | EventWire, forwarded: boolean): void => {
    if (forwarded) return store.add([event]);
    store.addLater([event]);
    settler.kick();
  };
  const detect = await startDetectService({
    config,
    registry,
    logger,
    onSignal,
    // A forwarded event is stored before its signal is reported, so the report can carry it;
    // an approved rule's match is tagged and forwarded even under the gate's threshold.
    onDecision: (event, decision) => ruleForwarder.observe(event, decision, keep),
  });
  gatingPending = () => detect.bus.stats().depth > 0;
  logger.info({ ingest: detect.ingestUrl }, 'ingest listening');

  const feedback = defineSkill({
    id: 'model.feedback',
    name: 'Model feedback',
    description: "An analyst's verdict on an incident's events, used at the gate's next retraining",
    input: FeedbackInput,
    output: FeedbackOutput,
    handle: async (input, skillCtx) => {
      let applied = 0;
      let unknown = 0;
      for (const eventId of input.eventIds) {
        if (detect.gate.feedback({ eventId, verdict: input.verdict }).applied) applied += 1;
        else unknown += 1;
      }
      skillCtx.logger.info(
        { incidentId: input.incidentId, verdict: input.verdict, applied, unknown },
        'feedback',
      );
      return { applied, unknown };
    },
  });
  const query = defineSkill({
    id: 'events.query',
    name: 'Event query',
    description: 'Recent events by id, workload, time range or rule, from the bounded event store',
    input: EventsQueryInput,
    output: EventsQueryOutput,
    handle: async (input) => store.query(input),
  });

  return {
    description: 'Scores every Falco event with the Isolation Forest gate and reports anomalous workloads',
    skills: [feedback, query, ...ruleSkills({ proposals, rules: approvedRules }), ...mcpSkillsOnStore(store)],
    ready: () => true,
    close: async () => {
      await proposals.close();
      await detect.close();
      settler.close();
      // Give undelivered signal reports a moment; the coordinator may be stopping too.
      await Promise.race([outbox.flush(), new Promise((r) => setTimeout(r, 3_000).unref())]);
      await outbox.close();
      await store.close();
    },
  };
}
