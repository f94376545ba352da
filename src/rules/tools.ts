/**
 * MCP-ready pure handlers `rules.validate` and `rules.backtest`, with zod
 * schemas for input and output. The MCP server wires them; the backtest handler
 * gets its events through an injected query (the event store's iterate) and the
 * base rules (e.g. the official files) whose macros and lists candidates reuse.
 */
import { z } from 'zod';
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { backtest, compileCandidate } from './backtest.ts';
import type { RulesSource } from './loader.ts';
import { validateSources } from './validate.ts';

const MAX_RULES_TEXT = 2_000_000;

const IssueSchema = z.object({
  file: z.string(),
  line: z.number().int(),
  column: z.number().int(),
  message: z.string(),
  text: z.string(),
});

export const RulesValidateInput = z.object({
  files: z
    .array(z.object({ file: z.string().min(1).max(512), content: z.string().max(MAX_RULES_TEXT) }))
    .min(1)
    .max(32),
});
export const RulesValidateOutput = z.object({
  valid: z.boolean(),
  files: z.array(
    z.object({
      file: z.string(),
      rules: z.number().int(),
      macros: z.number().int(),
      lists: z.number().int(),
      errors: z.array(IssueSchema),
    }),
  ),
});

export const RulesBacktestInput = z.object({
  /** The candidate as Falco rules YAML (one rule, optionally with its own macros and lists). */
  rule: z.string().min(1).max(200_000),
  /** Which rule of the YAML to test (default: the last one it defines). */
  ruleName: z.string().optional(),
  fromMs: z.number().int().optional(),
  toMs: z.number().int().optional(),
  workloadKey: z.string().optional(),
  incidentEventIds: z.array(z.string()).max(100_000).optional(),
  /** Ground truth per event id (true = the rule should fire on it). */
  labels: z.record(z.string(), z.boolean()).optional(),
});
export const RulesBacktestOutput = z.object({
  valid: z.boolean(),
  errors: z.array(IssueSchema),
  report: z
    .object({
      rule: z.string(),
      events: z.number().int(),
      hits: z.number().int(),
      incident: z.object({ events: z.number().int(), hits: z.number().int(), missed: z.number().int() }),
      other: z.object({
        events: z.number().int(),
        hits: z.number().int(),
        hitRate: z.number(),
        exampleIds: z.array(z.string()),
      }),
      labelled: z
        .object({
          events: z.number().int(),
          truePositives: z.number().int(),
          falsePositives: z.number().int(),
          falseNegatives: z.number().int(),
          precision: z.number(),
          recall: z.number(),
        })
        .optional(),
      elapsedMs: z.number(),
      eventsPerSecond: z.number(),
    })
    .optional(),
});

export type RulesValidateInput = z.infer<typeof RulesValidateInput>;
export type RulesValidateOutput = z.infer<typeof RulesValidateOutput>;
export type RulesBacktestInput = z.infer<typeof RulesBacktestInput>;
export type RulesBacktestOutput = z.infer<typeof RulesBacktestOutput>;

export interface EventQuery {
  fromMs?: number;
  toMs?: number;
  workloadKey?: string;
}

export interface RulesToolsDeps {
  /** The events to backtest on (the event store's iterate). */
  events: (query: EventQuery) => Iterable<NormalizedEvent>;
  /** Rules files whose macros and lists a candidate may use (e.g. the official rules). */
  baseRules?: readonly RulesSource[];
}

export function rulesValidate(input: unknown): RulesValidateOutput {
  const { files } = RulesValidateInput.parse(input);
  const { files: reports } = validateSources(files.map((f) => ({ file: f.file, text: f.content })));
  return { valid: reports.every((f) => f.errors.length === 0), files: reports };
}

export function createRulesBacktest(deps: RulesToolsDeps): (input: unknown) => RulesBacktestOutput {
  return (input) => {
    const req = RulesBacktestInput.parse(input);
    let rule;
    try {
      rule = compileCandidate(req.rule, deps.baseRules ?? [], req.ruleName);
    } catch (err) {
      if (err instanceof FalconerError && err.code === 'RULES_COMPILE') {
        const issues = z.array(IssueSchema).safeParse(err.context.issues);
        return { valid: false, errors: issues.success ? issues.data : [] };
      }
      throw err;
    }
    const query: EventQuery = {
      ...(req.fromMs !== undefined ? { fromMs: req.fromMs } : {}),
      ...(req.toMs !== undefined ? { toMs: req.toMs } : {}),
      ...(req.workloadKey !== undefined ? { workloadKey: req.workloadKey } : {}),
    };
    const report = backtest(rule, deps.events(query), {
      incidentEventIds: new Set(req.incidentEventIds ?? []),
      ...(req.labels !== undefined ? { labels: new Map(Object.entries(req.labels)) } : {}),
    });
    return { valid: true, errors: [], report };
  };
}

/** The tool descriptors the MCP server registers. */
export function rulesTools(deps: RulesToolsDeps) {
  return [
    {
      name: 'rules.validate',
      description: 'Validate Falco rules files (loaded together, in order); located errors per file.',
      inputSchema: RulesValidateInput,
      outputSchema: RulesValidateOutput,
      handler: rulesValidate,
    },
    {
      name: 'rules.backtest',
      description:
        'Compile a candidate Falco rule and run it over stored events: hits on the incident vs everything else, precision/recall with labels.',
      inputSchema: RulesBacktestInput,
      outputSchema: RulesBacktestOutput,
      handler: createRulesBacktest(deps),
    },
  ] as const;
}
