/**
 * The read-only tools, transport-free: name, description, zod input and
 * output schemas and a handler that gets the caller's scope. Each handler
 * checks the scope before it asks a backend, and bounds what it returns.
 */
import { z } from 'zod';
import { BASELINE_KINDS, EventsBaselineOutput, FieldFilter, IncidentDetail } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import {
  rulesValidate,
  RulesBacktestOutput,
  RulesValidateInput,
  RulesValidateOutput,
} from '../rules/tools.ts';
import type { McpBackend } from './backend.ts';
import { BoundedEvent, boundEvents, clip } from './bound.ts';
import {
  assertNamespace,
  assertRange,
  namespaceOfWorkloadKey,
  namespaceRestriction,
  podOfWorkloadKey,
  type McpScope,
} from './scope.ts';
import { contextFromEvents, contextFromKubernetes, WorkloadContext } from './workload-context.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import './errors.ts';

export interface ToolContext {
  readonly scope: McpScope;
  readonly backend: McpBackend;
  readonly kube: KubeConfig | undefined;
  readonly maxRangeMs: number;
  readonly now: () => number;
}

export interface McpTool<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  run(args: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
}

function defineTool<I extends z.ZodObject, O extends z.ZodObject>(t: McpTool<I, O>): McpTool<I, O> {
  return t;
}

const workloadKey = z.string().min(1).max(600).describe('workload key, e.g. pod:<cluster>/<namespace>/<pod>');
const timeRange = {
  fromMs: z.number().int().optional().describe('events at or after this time (epoch ms)'),
  toMs: z.number().int().optional().describe('events before this time (epoch ms)'),
};

function checkWorkloadKey(scope: McpScope, key: string): void {
  assertNamespace(scope, namespaceOfWorkloadKey(key), `workload ${clip(key, 120)}`);
}

const EventsSearchArgs = z
  .object({
    workloadKey: workloadKey.optional(),
    namespace: z.string().min(1).max(253).optional(),
    pod: z.string().min(1).max(253).optional(),
    container: z.string().min(1).max(253).optional(),
    ...timeRange,
    rule: z.string().min(1).max(512).optional().describe('exact Falco rule name'),
    fields: z.array(FieldFilter).max(10).optional().describe('all must match; fields from an allow-list'),
    limit: z.number().int().min(1).max(500).default(50),
  })
  .strict();

const eventsSearch = defineTool({
  name: 'events.search',
  title: 'Search events',
  description:
    'Stored Falco events (detect’s event store), newest first: by workload key or namespace/pod/container, time range, rule, and field filters (proc.name, proc.pname, proc.cmdline, fd.name, fd.sport, …). At most 500; truncated says more matched.',
  input: EventsSearchArgs,
  output: z.object({
    events: z.array(BoundedEvent),
    truncated: z.boolean(),
    scanned: z.number().int(),
  }),
  async run(args, ctx) {
    assertRange(args, ctx.maxRangeMs, ctx.now());
    if (args.workloadKey !== undefined) checkWorkloadKey(ctx.scope, args.workloadKey);
    if (args.namespace !== undefined)
      assertNamespace(ctx.scope, args.namespace, `namespace ${args.namespace}`);
    const namespaces = namespaceRestriction(ctx.scope);
    const out = await ctx.backend.searchEvents({
      ...args,
      ...(namespaces !== undefined ? { namespaces } : {}),
    });
    const bounded = boundEvents(out.events);
    return { events: bounded.events, truncated: out.truncated || bounded.cut, scanned: out.scanned };
  },
});

const eventsBaseline = defineTool({
  name: 'events.baseline',
  title: 'How common is it',
  description:
    'How common a process (proc.name), parent (proc.pname), image, port (fd.sport/fd.rport) or file path prefix (fd.name) is: count in this workload, count over all workloads, how many workloads have it, first and last seen.',
  input: z
    .object({ workloadKey, kind: z.enum(BASELINE_KINDS), value: z.string().min(1).max(1024), ...timeRange })
    .strict(),
  output: EventsBaselineOutput,
  async run(args, ctx) {
    assertRange(args, ctx.maxRangeMs, ctx.now());
    checkWorkloadKey(ctx.scope, args.workloadKey);
    const namespaces = namespaceRestriction(ctx.scope);
    const out = await ctx.backend.baseline({ ...args, ...(namespaces !== undefined ? { namespaces } : {}) });
    return { ...out, workloadKey: clip(out.workloadKey, 600), value: clip(out.value, 1024) };
  },
});

const workloadContext = defineTool({
  name: 'workload.context',
  title: 'Workload context',
  description:
    'Owner (Deployment/StatefulSet/… through ownerReferences), images, service account, labels, annotations and node of a pod: from the Kubernetes API when reachable, else from its events’ fields. source says which.',
  input: z
    .object({
      workloadKey: workloadKey.optional(),
      namespace: z.string().min(1).max(253).optional(),
      pod: z.string().min(1).max(253).optional(),
    })
    .strict(),
  output: WorkloadContext,
  async run(args, ctx) {
    let target: { namespace?: string; pod?: string; key?: string };
    if (args.workloadKey !== undefined) {
      checkWorkloadKey(ctx.scope, args.workloadKey);
      target = { ...podOfWorkloadKey(args.workloadKey), key: args.workloadKey };
    } else if (args.namespace !== undefined && args.pod !== undefined) {
      assertNamespace(ctx.scope, args.namespace, `namespace ${args.namespace}`);
      target = { namespace: args.namespace, pod: args.pod };
    } else {
      throw new FalconerError('MCP_INVALID_ARGUMENTS', 'give workloadKey, or namespace and pod', {});
    }
    let why: string | undefined = ctx.kube === undefined ? 'no Kubernetes API configured' : undefined;
    if (ctx.kube !== undefined && target.namespace !== undefined && target.pod !== undefined) {
      const fromApi = await contextFromKubernetes(ctx.kube, target.namespace, target.pod);
      if (typeof fromApi !== 'string') {
        return target.key !== undefined ? { ...fromApi, workloadKey: target.key } : fromApi;
      }
      why = fromApi;
    } else if (ctx.kube !== undefined) {
      why = 'not a pod: the Kubernetes API has nothing to say about it';
    }
    const namespaces = namespaceRestriction(ctx.scope);
    const found = await ctx.backend.searchEvents({
      ...(target.key !== undefined
        ? { workloadKey: target.key }
        : { namespace: target.namespace, pod: target.pod }),
      ...(namespaces !== undefined ? { namespaces } : {}),
      limit: 20,
    });
    return contextFromEvents(found.events, why);
  },
});

const BoundedIncident = IncidentDetail.extend({
  signals: z.array(IncidentDetail.shape.signals.element.extend({ eventIds: z.array(z.string()).max(50) })),
});

const incidentGet = defineTool({
  name: 'incident.get',
  title: 'Incident',
  description:
    'One incident by id: status, severity, workload, timeline, signals (with their first event ids), the analysis and the proposed actions with their policy decisions.',
  input: z.object({ id: z.string().min(1).max(200) }).strict(),
  output: z.object({ incident: BoundedIncident }),
  async run(args, ctx) {
    const incident = await ctx.backend.incident(args.id);
    // Out of scope looks exactly like absent: the caller learns nothing about other namespaces.
    if (incident === null || !namespaceAllowedForIncident(ctx.scope, incident.workload.namespace)) {
      throw new FalconerError(
        'MCP_NOT_FOUND',
        `no incident ${clip(args.id, 200)} in this credential's scope`,
        {},
      );
    }
    return {
      incident: {
        ...incident,
        timeline: incident.timeline.slice(-100),
        signals: incident.signals.slice(-20).map((s) => ({ ...s, eventIds: s.eventIds.slice(0, 50) })),
      },
    };
  },
});

function namespaceAllowedForIncident(scope: McpScope, namespace: string | undefined): boolean {
  try {
    assertNamespace(scope, namespace, 'incident');
    return true;
  } catch {
    return false;
  }
}

const MAX_ISSUES = 50;

const rulesValidateTool = defineTool({
  name: 'rules.validate',
  title: 'Validate Falco rules',
  description:
    'Validate Falco rules files (loaded together, in order): rules, macros and lists counted, errors located by file:line:column.',
  input: RulesValidateInput,
  output: RulesValidateOutput,
  async run(args) {
    const out = rulesValidate(args);
    return {
      valid: out.valid,
      files: out.files.map((f) => ({
        ...f,
        errors: f.errors
          .slice(0, MAX_ISSUES)
          .map((e) => ({ ...e, message: clip(e.message, 500), text: clip(e.text, 300) })),
      })),
    };
  },
});

const RulesBacktestArgs = z
  .object({
    rule: z
      .string()
      .min(1)
      .max(200_000)
      .describe('the candidate as Falco rules YAML (one rule, with its own macros and lists)'),
    ruleName: z.string().min(1).max(512).optional(),
    ...timeRange,
    workloadKey: workloadKey.optional(),
    incidentEventIds: z.array(z.string().min(1).max(200)).max(1000).optional(),
    labels: z.record(z.string().max(200), z.boolean()).optional(),
  })
  .strict();

const rulesBacktest = defineTool({
  name: 'rules.backtest',
  title: 'Backtest a Falco rule',
  description:
    'Compile a candidate Falco rule and run it over the stored events: hits on the incident’s events vs everything else, example ids of other hits, precision/recall when labels are given.',
  input: RulesBacktestArgs,
  output: RulesBacktestOutput,
  async run(args, ctx) {
    assertRange(args, ctx.maxRangeMs, ctx.now());
    if (args.workloadKey !== undefined) checkWorkloadKey(ctx.scope, args.workloadKey);
    if (args.labels !== undefined && Object.keys(args.labels).length > 1000) {
      throw new FalconerError('MCP_INVALID_ARGUMENTS', 'labels: at most 1000 entries', {});
    }
    const namespaces = namespaceRestriction(ctx.scope);
    const out = await ctx.backend.backtest({ ...args, ...(namespaces !== undefined ? { namespaces } : {}) });
    return {
      valid: out.valid,
      errors: out.errors
        .slice(0, MAX_ISSUES)
        .map((e) => ({ ...e, message: clip(e.message, 500), text: clip(e.text, 300) })),
      ...(out.report !== undefined
        ? {
            report: {
              ...out.report,
              rule: clip(out.report.rule, 512),
              other: { ...out.report.other, exampleIds: out.report.other.exampleIds.slice(0, 20) },
            },
          }
        : {}),
    };
  },
});

/** Every tool the server offers, in listing order. */
export const MCP_TOOLS: readonly McpTool[] = [
  eventsSearch,
  eventsBaseline,
  workloadContext,
  incidentGet,
  rulesValidateTool,
  rulesBacktest,
] as unknown as readonly McpTool[];

export const MCP_TOOL_NAMES: readonly string[] = MCP_TOOLS.map((t) => t.name);
