/**
 * The wire contracts of the agents' A2A skills (see docs/agents.md): one zod
 * schema per skill input and output. Both sides validate with these, so a
 * peer that sends something else gets a clear error instead of undefined
 * behaviour. All string content that came from events is attacker-controlled.
 */
import { z } from 'zod';
import { RulesBacktestInput } from '../rules/tools.ts';

export const AGENT_NAMES = ['detect', 'coordinator', 'analyse', 'remediate', 'notify'] as const;
export const AgentName = z.enum(AGENT_NAMES);
export type AgentName = z.infer<typeof AgentName>;

/**
 * Every Falconer workload with an A2A identity: the five agents and the MCP
 * tool server (`falconer mcp`), which calls agents' skills but serves none.
 */
export const PEER_NAMES = [...AGENT_NAMES, 'mcp'] as const;
export type PeerName = (typeof PEER_NAMES)[number];

const id = z.string().min(1).max(200);
const text = (max: number) => z.string().max(max);

export const WorkloadWire = z.object({
  key: text(600).min(1),
  kind: z.enum(['pod', 'container', 'host']),
  host: text(255),
  cluster: text(128).optional(),
  namespace: text(253).optional(),
  pod: text(253).optional(),
  container: text(253).optional(),
  containerId: text(128).optional(),
  image: text(512).optional(),
});
export type WorkloadWire = z.infer<typeof WorkloadWire>;

const fieldValue = z.union([
  z.string().max(8192),
  z.number(),
  z.boolean(),
  z.null(),
  z.array(z.union([z.string().max(8192), z.number(), z.boolean(), z.null()])).max(256),
]);

/** A normalized event as it travels between agents (the NormalizedEvent fields). */
export const EventWire = z.object({
  id,
  timeMs: z.number().int(),
  time: text(64),
  rule: text(512),
  priority: text(32),
  priorityLevel: z.number().int().min(0).max(7),
  source: text(64),
  hostname: text(255),
  tags: z.array(text(128)).max(64),
  output: text(16384),
  fields: z.record(text(256), fieldValue),
  workload: WorkloadWire,
});
export type EventWire = z.infer<typeof EventWire>;

export const SignalWire = z.object({
  id,
  workload: WorkloadWire,
  firstSeenMs: z.number().int(),
  lastSeenMs: z.number().int(),
  eventIds: z.array(id).max(1000),
  maxScore: z.number().min(0).max(1),
  rules: z.array(text(512)).max(64),
  priorityLevel: z.number().int().min(0).max(7),
  count: z.number().int().positive(),
  /** What its events show the workload doing (src/gate/behaviour.ts); a new one is news. */
  behaviours: z.array(text(1024)).max(64).optional(),
});
export type SignalWire = z.infer<typeof SignalWire>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

// detect → coordinator: `signal.report`
export const SignalReportInput = z.object({
  kind: z.enum(['opened', 'updated']),
  signal: SignalWire,
  /** The signal's forwarded events (at most the first 50), so the coordinator needs no round trip. */
  events: z.array(EventWire).max(50),
});
export type SignalReportInput = z.infer<typeof SignalReportInput>;
export const SignalReportOutput = z.object({ incidentId: id, created: z.boolean() });
export type SignalReportOutput = z.infer<typeof SignalReportOutput>;

export const Technique = z.object({
  id: z.string().regex(/^T\d{4}(\.\d{3})?$/),
  name: text(200),
  tactic: text(100),
});
export type Technique = z.infer<typeof Technique>;

/** The action catalogue's kinds (src/actions). */
export const ActionKind = z.enum([
  'label-pod',
  'annotate-pod',
  'isolate-pod',
  'delete-pod',
  'scale-owner-to-zero',
  'block-image',
  'emit-event',
]);
export type ActionKind = z.infer<typeof ActionKind>;

export const IncidentSummary = z.object({
  id,
  workload: WorkloadWire,
  severity: Severity,
  status: text(32),
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  signals: z.array(SignalWire).max(100),
});
export type IncidentSummary = z.infer<typeof IncidentSummary>;

/** One LLM call behind an analysis: which provider, model and prompt, what it cost, how it ended. */
export const LlmCallWire = z.object({
  provider: text(64),
  model: text(200),
  prompt: z.object({ name: text(200), version: text(64), hash: text(128) }),
  traceId: text(64).optional(),
  attempts: z.number().int().min(0).max(100),
  durationMs: z.number().min(0),
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  /** ok, or the error code that ended it (LLM_UNAVAILABLE…). */
  outcome: text(64),
});
export type LlmCallWire = z.infer<typeof LlmCallWire>;

/** A closed incident of the same workload shortly before this one, and what it was judged. */
export const PriorIncident = z.object({
  id,
  status: text(32),
  /** A person's verdict when one was given, else the analysis's; absent when neither exists. */
  verdict: z.enum(['true_positive', 'false_positive', 'needs_review']).optional(),
  /** Event time from its last signal to this incident's first (0 when they overlap). */
  msBefore: z.number().int().min(0),
  rules: z.array(text(512)).max(64),
});
export type PriorIncident = z.infer<typeof PriorIncident>;

// coordinator → analyse: `incident.analyse`
export const AnalyseInput = z.object({
  incident: IncidentSummary,
  events: z.array(EventWire).max(500),
  /** Closed incidents of the workload within the grouping window before it, newest first. */
  prior: z.array(PriorIncident).max(5).optional(),
});
export type AnalyseInput = z.infer<typeof AnalyseInput>;
export const AnalysisResult = z.object({
  verdict: z.enum(['true_positive', 'false_positive', 'needs_review']),
  confidence: z.number().min(0).max(1),
  severity: Severity,
  techniques: z.array(Technique).max(20),
  explanation: text(8000),
  /** Every event id the explanation relies on (each appears in the explanation). */
  citedEventIds: z.array(id).max(100),
  recommendedActions: z.array(ActionKind).max(10),
  /** A proposed Falco rule (YAML), when one is useful. */
  proposedRule: text(20000).optional(),
  /** Which analyst answered: the deterministic offline one or an LLM. */
  analyst: z.enum(['offline', 'llm']),
  /** Why the offline analyst answered although an LLM is configured (budget spent, provider down…). */
  degradedReason: text(500).optional(),
  /** The LLM calls behind this analysis (cost, prompt, trace), when an LLM was configured. */
  llmCalls: z.array(LlmCallWire).max(50).optional(),
});
export type AnalysisResult = z.infer<typeof AnalysisResult>;

export const PolicyDecision = z.object({
  allowed: z.boolean(),
  requiresApproval: z.boolean(),
  /** 2 under the four-eyes rule. */
  approvalsRequired: z.number().int().min(0).max(5),
  reasons: z.array(text(500)).max(20),
  bundleRevision: text(100),
  inputDigest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PolicyDecision = z.infer<typeof PolicyDecision>;

export const ActionTarget = z.object({
  namespace: text(253).min(1),
  pod: text(253).optional(),
  image: text(512).optional(),
  ownerKind: text(64).optional(),
  ownerName: text(253).optional(),
});
export type ActionTarget = z.infer<typeof ActionTarget>;

export const ActionProposal = z.object({
  id,
  kind: ActionKind,
  target: ActionTarget,
  params: z.record(text(100), z.unknown()),
  /** The exact Kubernetes objects the action applies (or deletes). */
  manifests: z.array(z.record(z.string(), z.unknown())).max(10),
  dryRun: z.boolean(),
  /** Present once policy has decided (the policy issue); absent means "not decided". */
  decision: PolicyDecision.optional(),
});
export type ActionProposal = z.infer<typeof ActionProposal>;

// coordinator → remediate: `actions.propose`
export const ProposeInput = z.object({ incident: IncidentSummary, analysis: AnalysisResult });
export type ProposeInput = z.infer<typeof ProposeInput>;
export const ProposeOutput = z.object({ proposals: z.array(ActionProposal).max(10) });
export type ProposeOutput = z.infer<typeof ProposeOutput>;

export const Approval = z.object({ by: text(200).min(1), at: z.number().int() });

// coordinator → remediate: `actions.execute` / `actions.rollback`
export const ExecuteInput = z.object({
  incidentId: id,
  proposal: ActionProposal,
  approvals: z.array(Approval).max(5),
});
export type ExecuteInput = z.infer<typeof ExecuteInput>;
export const ExecuteOutput = z.object({
  status: z.enum(['applied', 'dry-run', 'refused', 'failed', 'rolled-back']),
  reason: text(2000).optional(),
  /** Where dry-run manifests were written, when no cluster was reachable. */
  outputPath: text(1000).optional(),
  before: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
  after: z.array(z.record(z.string(), z.unknown())).max(10).optional(),
});
export type ExecuteOutput = z.infer<typeof ExecuteOutput>;

export const NotificationKind = z.enum([
  'incident.opened',
  'incident.analysed',
  'actions.proposed',
  'approval.needed',
  /** Policy let every proposed action run without approval: they are running now. */
  'remediation.started',
  'incident.resolved',
  'incident.dismissed',
  /** A signal that tells the analysis something new joined an open incident (before its re-analysis). */
  'incident.updated',
]);
export type NotificationKind = z.infer<typeof NotificationKind>;

// coordinator → notify: `incident.notify`
export const NotifyInput = z.object({
  kind: NotificationKind,
  /** Unique per (incident, kind, revision): the notifier never sends the same key twice. */
  dedupeKey: id,
  incident: IncidentSummary,
  analysis: AnalysisResult.optional(),
  proposals: z.array(ActionProposal).max(10),
  /** Signed approve / reject links per proposal id. */
  links: z.record(id, z.object({ approve: z.url(), reject: z.url() })),
  /** Link to the incident in the HITL API / console. */
  incidentUrl: z.url().optional(),
  /** incident.updated: the signal that joined (its rules are attacker-influenced text). */
  update: z
    .object({
      signalId: id,
      rules: z.array(text(512)).max(64),
      priorityLevel: z.number().int().min(0).max(7),
    })
    .optional(),
});
export type NotifyInput = z.infer<typeof NotifyInput>;
export const NotifyOutput = z.object({
  deliveries: z.array(
    z.object({ sink: text(100), ok: z.boolean(), attempts: z.number().int(), error: text(500).optional() }),
  ),
  duplicate: z.boolean(),
});
export type NotifyOutput = z.infer<typeof NotifyOutput>;

// coordinator → detect: `model.feedback`
export const FeedbackInput = z.object({
  incidentId: id,
  verdict: z.enum(['true_positive', 'false_positive']),
  eventIds: z.array(id).max(1000),
});
export type FeedbackInput = z.infer<typeof FeedbackInput>;
export const FeedbackOutput = z.object({ applied: z.number().int(), unknown: z.number().int() });
export type FeedbackOutput = z.infer<typeof FeedbackOutput>;

// analyse / coordinator → detect: `events.query`
export const EventsQueryInput = z.object({
  ids: z.array(id).max(1000).optional(),
  workloadKey: text(600).optional(),
  fromMs: z.number().int().optional(),
  toMs: z.number().int().optional(),
  rule: text(512).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});
export type EventsQueryInput = z.infer<typeof EventsQueryInput>;
export const EventsQueryOutput = z.object({ events: z.array(EventWire), truncated: z.boolean() });
export type EventsQueryOutput = z.infer<typeof EventsQueryOutput>;

/** A Falco rule of a proposal (src/rules/synthesize.ts SynthesizedRule). */
export const RuleWire = z.object({
  name: text(512).min(1),
  desc: text(4000),
  condition: text(20000).min(1),
  output: text(8000),
  priority: text(32),
  tags: z.array(text(128)).max(64),
  source: text(64),
});
export type RuleWire = z.infer<typeof RuleWire>;

const RulesIssueWire = z.object({
  file: text(300),
  line: z.number().int(),
  column: z.number().int(),
  message: text(2000),
  text: text(2000),
});

/** The backtest report of a proposal (src/rules/synthesize/evaluate-proposal.ts ProposalReport). */
export const ProposalReportWire = z.object({
  valid: z.boolean(),
  issues: z.array(RulesIssueWire).max(100),
  rules: z.array(text(512)).max(64),
  incident: z.object({ events: z.number().int(), hits: z.number().int(), missed: z.number().int() }),
  baseline: z.object({
    events: z.number().int(),
    hits: z.number().int(),
    rate: z.number(),
    maxRate: z.number(),
    exampleIds: z.array(id).max(100),
  }),
  perRule: z
    .array(
      z.object({
        rule: text(512),
        events: z.number().int(),
        hits: z.number().int(),
        incident: z.object({ events: z.number().int(), hits: z.number().int(), missed: z.number().int() }),
        other: z.object({
          events: z.number().int(),
          hits: z.number().int(),
          hitRate: z.number(),
          exampleIds: z.array(id).max(100),
        }),
        elapsedMs: z.number(),
        eventsPerSecond: z.number(),
      }),
    )
    .max(64),
  accepted: z.boolean(),
  problems: z.array(text(4000)).max(100),
});
export type ProposalReportWire = z.infer<typeof ProposalReportWire>;

// coordinator → detect: `rules.propose`
export const RulesProposeInput = z.object({
  incidentId: id,
  workload: WorkloadWire,
  /** The incident's events (ids in detect's event store). */
  eventIds: z.array(id).min(1).max(1000),
  /** The analysis's proposedRule (YAML from the LLM analyst), tried first. */
  candidate: text(20000).optional(),
});
export type RulesProposeInput = z.infer<typeof RulesProposeInput>;
export const RulesProposeOutput = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('proposed'),
    /** Where the rule came from: the analyst's candidate or the offline synthesizer. */
    origin: z.enum(['candidate', 'synthesized']),
    yaml: text(100_000).min(1),
    rules: z.array(RuleWire).min(1).max(16),
    report: ProposalReportWire,
  }),
  z.object({ status: z.literal('none'), reason: text(4000) }),
]);
export type RulesProposeOutput = z.infer<typeof RulesProposeOutput>;

// coordinator → detect: `rules.apply`
export const RulesApplyInput = z.object({
  proposalId: id,
  /** The approved rules file text; detect validates and compiles it again. */
  yaml: text(100_000).min(1),
});
export type RulesApplyInput = z.infer<typeof RulesApplyInput>;
export const RulesApplyOutput = z.object({
  /** False when this proposal was already applied (a retry). */
  applied: z.boolean(),
  /** Names of the rules the proposal added. */
  rules: z.array(text(512)).max(64),
  /** Rules detect now evaluates in total. */
  active: z.number().int(),
});
export type RulesApplyOutput = z.infer<typeof RulesApplyOutput>;

// mcp → detect: `events.search` (the MCP tool of the same name; see docs/mcp.md)
/** Event fields an `events.search` filter may name (an allow-list: the tool is no general query language). */
export const SEARCH_FIELDS = [
  'proc.name',
  'proc.pname',
  'proc.exepath',
  'proc.cmdline',
  'user.name',
  'evt.type',
  'fd.name',
  'fd.sip',
  'fd.dip',
  'fd.sport',
  'fd.rport',
  'fd.l4proto',
  'container.id',
  'container.name',
  'container.image.repository',
  'k8s.ns.name',
  'k8s.pod.name',
] as const;
export const SearchField = z.enum(SEARCH_FIELDS);
export const FieldFilter = z.object({
  field: SearchField,
  /** eq: equal (numbers compare as text); prefix / contains: on the text form. */
  op: z.enum(['eq', 'prefix', 'contains']).default('eq'),
  value: text(512),
});
export type FieldFilter = z.infer<typeof FieldFilter>;
/** Namespaces a caller may see (its MCP token's scope); absent = every namespace. */
const namespaceScope = z.array(text(253).min(1)).max(256).optional();
export const EventsSearchInput = z.object({
  workloadKey: text(600).min(1).optional(),
  namespace: text(253).min(1).optional(),
  pod: text(253).min(1).optional(),
  container: text(253).min(1).optional(),
  namespaces: namespaceScope,
  fromMs: z.number().int().optional(),
  toMs: z.number().int().optional(),
  rule: text(512).optional(),
  fields: z.array(FieldFilter).max(10).optional(),
  limit: z.number().int().min(1).max(500).default(50),
});
export type EventsSearchInput = z.infer<typeof EventsSearchInput>;
export const EventsSearchOutput = z.object({
  events: z.array(EventWire).max(500),
  /** More events matched than `limit`. */
  truncated: z.boolean(),
  /** Stored events examined. */
  scanned: z.number().int().min(0),
});
export type EventsSearchOutput = z.infer<typeof EventsSearchOutput>;

// mcp → detect: `events.baseline`
export const BASELINE_KINDS = ['process', 'parent', 'image', 'port', 'path'] as const;
export const EventsBaselineInput = z.object({
  workloadKey: text(600).min(1),
  /** process: proc.name; parent: proc.pname; image: the container image; port: fd.sport or fd.rport; path: fd.name prefix. */
  kind: z.enum(BASELINE_KINDS),
  value: text(1024).min(1),
  namespaces: namespaceScope,
  fromMs: z.number().int().optional(),
  toMs: z.number().int().optional(),
});
export type EventsBaselineInput = z.infer<typeof EventsBaselineInput>;
const Occurrence = z.object({
  count: z.number().int().min(0),
  firstSeenMs: z.number().int().nullable(),
  lastSeenMs: z.number().int().nullable(),
});
export const EventsBaselineOutput = z.object({
  workloadKey: text(600),
  kind: z.enum(BASELINE_KINDS),
  value: text(1024),
  /** Events of this workload that have it, out of `workloadEvents`. */
  workload: Occurrence.extend({ events: z.number().int().min(0) }),
  /** Over every workload the caller may see (`population`). */
  overall: Occurrence.extend({
    events: z.number().int().min(0),
    workloads: z.number().int().min(0),
    totalWorkloads: z.number().int().min(0),
  }),
  population: z.enum(['all', 'scoped-namespaces']),
});
export type EventsBaselineOutput = z.infer<typeof EventsBaselineOutput>;

// mcp → coordinator: `incident.get`
export const IncidentGetInput = z.object({ id });
export type IncidentGetInput = z.infer<typeof IncidentGetInput>;
export const IncidentDetail = z.object({
  id,
  status: text(32),
  severity: Severity,
  workload: WorkloadWire,
  traceId: z.string().regex(/^[0-9a-f]{32}$/),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  lastSignalAt: z.number().int(),
  reason: text(2000).optional(),
  verdict: z.enum(['true_positive', 'false_positive']).optional(),
  timeline: z
    .array(
      z.object({
        seq: z.number().int(),
        from: text(32).nullable(),
        to: text(32),
        at: z.number().int(),
        actor: text(200),
        reason: text(2000),
      }),
    )
    .max(200),
  signals: z.array(SignalWire).max(100),
  analysis: AnalysisResult.nullable(),
  proposals: z
    .array(ActionProposal.omit({ manifests: true }).extend({ manifests: z.number().int().min(0) }))
    .max(10),
});
export type IncidentDetail = z.infer<typeof IncidentDetail>;
export const IncidentGetOutput = z.object({ incident: IncidentDetail.nullable() });
export type IncidentGetOutput = z.infer<typeof IncidentGetOutput>;

// mcp → detect: `rules.backtest` (src/rules/tools.ts over the event store), limited to the caller's namespaces
export const RulesBacktestSkillInput = RulesBacktestInput.extend({ namespaces: namespaceScope });
export type RulesBacktestSkillInput = z.infer<typeof RulesBacktestSkillInput>;
export { RulesBacktestOutput } from '../rules/tools.ts';
