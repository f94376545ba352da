/**
 * The coordinator agent: incidents and their state machine (engine.ts), the
 * HITL API, and the A2A wiring — `signal.report` in from detect, the other
 * agents' skills out through the mTLS client, each call with the incident's
 * traceparent and a deterministic message id.
 */
import { defineSkill } from '../../a2a/skill.ts';
import {
  AnalysisResult,
  ExecuteOutput,
  FeedbackOutput,
  NotifyOutput,
  ProposeOutput,
  SignalReportInput,
  SignalReportOutput,
} from '../contracts.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';
import type { CoordinatorPeers } from './peers.ts';
import { startCoordinatorService } from './service.ts';
import { RulesApplyOutput, RulesProposeOutput } from '../contracts.ts';
import type { RulePeers } from './rules/proposer.ts';

/** Detect's rule skills; synthesis over a large event store can take a while. */
function a2aRulePeers(ctx: AgentContext): RulePeers {
  const { peers } = ctx;
  return {
    propose: (input, c) =>
      // Detect paces proposals (a share of a core), so an attack storm queues them: wait long.
      peers.call('detect', 'rules.propose', input, RulesProposeOutput, { ...c, timeoutMs: 600_000 }),
    apply: (input, c) => peers.call('detect', 'rules.apply', input, RulesApplyOutput, c),
  };
}
import { incidentGetSkill } from '../../mcp/skills/coordinator.ts';

function a2aPeers(ctx: AgentContext): CoordinatorPeers {
  const { peers } = ctx;
  return {
    analyse: (input, c) => peers.call('analyse', 'incident.analyse', input, AnalysisResult, c),
    propose: (input, c) => peers.call('remediate', 'actions.propose', input, ProposeOutput, c),
    execute: (input, c) => peers.call('remediate', 'actions.execute', input, ExecuteOutput, c),
    notify: (input, c) => peers.call('notify', 'incident.notify', input, NotifyOutput, c),
    feedback: (input, c) => peers.call('detect', 'model.feedback', input, FeedbackOutput, c),
  };
}

export async function createCoordinatorAgent(ctx: AgentContext): Promise<AgentParts> {
  const service = await startCoordinatorService({
    config: ctx.config.coordinator,
    dataDir: ctx.dataDir,
    store: ctx.store,
    peers: a2aPeers(ctx),
    logger: ctx.logger,
    registry: ctx.registry,
    rules: { config: ctx.config.rules, peers: a2aRulePeers(ctx) },
  });
  ctx.logger.info({ api: service.api.url }, 'HITL API listening');
  const signalReport = defineSkill({
    id: 'signal.report',
    name: 'Signal report',
    description: "Detect's anomalous-workload signal: joins or opens an incident and drives it",
    input: SignalReportInput,
    output: SignalReportOutput,
    handle: async (input, skillCtx) => {
      const { output, traceId } = await service.coordinator.onSignalTraced(input, {
        messageId: skillCtx.messageId,
        traceparent: skillCtx.traceparent,
      });
      // Under the incident's trace (one trace per incident): a signal that joins an incident opened
      // by another signal comes with a trace of its own, kept as signalTraceId.
      ctx.logger.info(
        {
          traceId: traceId ?? skillCtx.traceId,
          signalTraceId: skillCtx.traceId,
          messageId: skillCtx.messageId,
          incidentId: output.incidentId,
          created: output.created,
          signalId: input.signal.id,
        },
        output.created ? 'incident opened' : 'signal joined incident',
      );
      return output;
    },
  });
  return {
    description: 'Owns incidents and their state machine, routes work between agents, and waits for people',
    skills: [signalReport, incidentGetSkill(service.store.db)],
    ready: () => true,
    close: () => service.close(),
  };
}
