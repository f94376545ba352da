/**
 * Cost of LLM analysis on generated scenarios (not a test): how many LLM calls
 * and tokens a million Falco events cost WITH the gate (only what the
 * Isolation Forest forwards reaches the analyse agent) and WITHOUT it (every
 * event forwarded). Both modes run side by side on the same events:
 *
 *   scenario → normalize → gate (or forward all) → incidents grouped as the
 *   coordinator does (per workload; a signal joins the workload's incident when
 *   its last signal is within --window-ms; a re-analysis when a signal brings a
 *   new rule or a higher priority, at most once per --reanalysis-ms)
 *   → each analysis by the real LlmAnalyst (fencing, redaction, tool loop,
 *   answer checks) against the fake LLM server over HTTP, which counts
 *   requests and reports usage from the prompt size (chars / 4).
 *
 * The scripted model asks one `events.search` (in-process gateway answering
 * with the incident's recent events) and then answers. An analysis sees at
 * most the incident's last 50 events (what a signal report carries).
 *
 *   node --import tsx bench/llm-cost.ts [--seeds 1,2] [--minutes 60] [--rate 50] [--no-write]
 *
 * Writes bench/results/llm-cost.json.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { toEventWire } from '../src/agents/event-wire.ts';
import type { AnalyseInput, EventWire } from '../src/agents/contracts.ts';
import { LlmAnalyst } from '../src/agents/analyse/llm/analyst.ts';
import { staticPromptSource } from '../src/agents/analyse/llm/builtin-prompt.ts';
import { createNormalizer } from '../src/events/normalize.ts';
import { Gate } from '../src/gate/gate.ts';
import { LlmProviderConfigSchema } from '../src/llm/config.ts';
import { createLlmClient } from '../src/llm/index.ts';
import type { ToolSpec } from '../src/llm/types.ts';
import type { ToolGateway } from '../src/mcp/gateway.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { startFakeLlmServer, type RecordedRequest, type Reply } from '../test/support/fake-llm-server.ts';
import { hasFlag, numberFlag, stringFlag } from './args.ts';
import { loadAverage, machineInfo } from './machine.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const seeds = (stringFlag('--seeds') ?? '1,2').split(',').map(Number);
const minutes = numberFlag('--minutes', 60);
const rate = numberFlag('--rate', 50);
const forwardRate = numberFlag('--forward-rate', 0.005);
const windowMs = numberFlag('--window-ms', 15 * 60_000);
const reanalysisMs = numberFlag('--reanalysis-ms', 30_000);
const MAX_EVENTS_PER_ANALYSIS = 50;
/** Why analyses fell back to the offline analyst (should stay empty: the scripted model always answers well). */
const degradedCodes: Record<string, number> = {};

// --- the fake model: one tool round, then an answer; usage from the prompt size ---

function usageOf(req: RecordedRequest, answerChars: number): { in: number; out: number } {
  return { in: Math.ceil(JSON.stringify(req.body).length / 4), out: Math.ceil(answerChars / 4) };
}

function scriptedModel(req: RecordedRequest): Reply {
  const body = req.body as {
    messages: { role: string; content?: unknown; tool_calls?: unknown }[];
    tools?: unknown[];
  };
  const asked = body.messages.some((m) => m.role === 'tool');
  if (body.tools?.length && !asked) {
    const args = JSON.stringify({ limit: 20 });
    return completion(
      {
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'events_search', arguments: args } },
        ],
      },
      usageOf(req, args.length + 40),
    );
  }
  const text = body.messages.map((m) => (typeof m.content === 'string' ? m.content : '')).join('\n');
  const ids = [...text.matchAll(/Event id=(\S+) \(cite/g)].slice(0, 3).map((m) => m[1]!);
  const answer = JSON.stringify({
    verdict: 'needs_review',
    confidence: 0.6,
    severity: 'medium',
    techniques: ['T1059'],
    explanation: `The workload ran unusual commands ${ids.map((id) => `[event ${id}]`).join(' ')}; a human should review them against the workload's baseline.`,
    citedEventIds: ids,
    recommendedActions: ['annotate-pod'],
    proposedRule: null,
  });
  return completion({ content: answer }, usageOf(req, answer.length));
}

function completion(message: Record<string, unknown>, usage: { in: number; out: number }): Reply {
  return {
    kind: 'json',
    body: {
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      model: 'bench-model',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: null, ...message },
          finish_reason: message.tool_calls ? 'tool_calls' : 'stop',
        },
      ],
      usage: { prompt_tokens: usage.in, completion_tokens: usage.out, total_tokens: usage.in + usage.out },
    },
  };
}

/** In-process events.search answering with the incident's recent events. */
class IncidentEventsGateway implements ToolGateway {
  events: EventWire[] = [];
  async list(): Promise<ToolSpec[]> {
    return [
      {
        name: 'events.search',
        description: 'Search stored events of the workload',
        parameters: {
          type: 'object',
          properties: { workloadKey: { type: 'string' }, limit: { type: 'integer' } },
        },
      },
    ];
  }
  async call(): Promise<{ isError: boolean; text: string }> {
    return {
      isError: false,
      text: JSON.stringify({ events: this.events.slice(-20), truncated: false, scanned: this.events.length }),
    };
  }
  async close(): Promise<void> {}
}

// --- incidents as the coordinator groups them ---

interface OpenIncident {
  id: string;
  lastEventMs: number;
  events: EventWire[];
  /** Rules and most severe priority as of the last analysis (novelty test). */
  analysedRules: Set<string>;
  analysedPriority: number;
  lastAnalysisMs: number;
  pending: boolean;
}

interface ModeCounters {
  events: number;
  forwarded: number;
  incidents: number;
  analyses: number;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  degraded: number;
}

class Mode {
  readonly c: ModeCounters = {
    events: 0,
    forwarded: 0,
    incidents: 0,
    analyses: 0,
    llmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    degraded: 0,
  };
  readonly #open = new Map<string, OpenIncident>();
  #seq = 0;
  constructor(
    readonly name: string,
    readonly analyst: LlmAnalyst,
    readonly gateway: IncidentEventsGateway,
  ) {}

  async forward(ev: EventWire): Promise<void> {
    this.c.forwarded++;
    const key = ev.workload.key;
    let inc = this.#open.get(key);
    if (inc === undefined || ev.timeMs - inc.lastEventMs > windowMs) {
      inc = {
        id: `inc-${this.name}-${++this.#seq}`,
        lastEventMs: ev.timeMs,
        events: [],
        analysedRules: new Set(),
        analysedPriority: 8,
        lastAnalysisMs: -Infinity,
        pending: true,
      };
      this.#open.set(key, inc);
      this.c.incidents++;
    }
    inc.lastEventMs = ev.timeMs;
    inc.events.push(ev);
    if (inc.events.length > MAX_EVENTS_PER_ANALYSIS) inc.events.shift();
    if (!inc.analysedRules.has(ev.rule) || ev.priorityLevel < inc.analysedPriority) inc.pending = true;
    if (inc.pending && ev.timeMs - inc.lastAnalysisMs >= reanalysisMs) await this.#analyse(inc, ev.timeMs);
  }

  async finish(): Promise<void> {
    for (const inc of this.#open.values()) if (inc.pending) await this.#analyse(inc, inc.lastEventMs);
    this.#open.clear();
  }

  async #analyse(inc: OpenIncident, nowMs: number): Promise<void> {
    inc.pending = false;
    inc.lastAnalysisMs = nowMs;
    for (const e of inc.events) {
      inc.analysedRules.add(e.rule);
      inc.analysedPriority = Math.min(inc.analysedPriority, e.priorityLevel);
    }
    const first = inc.events[0]!;
    const input: AnalyseInput = {
      incident: {
        id: inc.id,
        workload: first.workload,
        severity: 'medium',
        status: 'open',
        traceId: '0af7651916cd43dd8448eb211c80319c',
        signals: [
          {
            id: `sig-${inc.id}`,
            workload: first.workload,
            firstSeenMs: first.timeMs,
            lastSeenMs: nowMs,
            eventIds: inc.events.map((e) => e.id),
            maxScore: 0.7,
            rules: [...new Set(inc.events.map((e) => e.rule))].slice(0, 64),
            priorityLevel: inc.analysedPriority,
            count: inc.events.length,
          },
        ],
      },
      events: inc.events,
    };
    this.gateway.events = inc.events;
    const out = await this.analyst.analyse(input);
    this.c.analyses++;
    if (out.result.analyst !== 'llm') {
      this.c.degraded++;
      const code = out.degradedCode ?? 'unknown';
      degradedCodes[code] = (degradedCodes[code] ?? 0) + 1;
      if (process.env.LLM_COST_DEBUG) process.stderr.write(`degraded: ${out.result.degradedReason}\n`);
    }
    for (const call of out.calls) {
      this.c.llmCalls++;
      this.c.inputTokens += call.inputTokens;
      this.c.outputTokens += call.outputTokens;
    }
  }
}

async function makeMode(name: string, url: string): Promise<Mode> {
  const cfg = LlmProviderConfigSchema.parse({
    kind: 'openai',
    baseUrl: `${url}/v1`,
    model: 'bench-model',
    maxRetries: 0,
    budgets: { callsPerMinute: 0, tokensPerDay: 0 },
  });
  const client = await createLlmClient(cfg, { registry: new Registry() });
  const gateway = new IncidentEventsGateway();
  return new Mode(name, new LlmAnalyst({ client, prompts: staticPromptSource(), tools: gateway }), gateway);
}

const perMillion = (x: number, events: number): number => Math.round((x / events) * 1_000_000 * 10) / 10;

function summary(c: ModeCounters) {
  return {
    ...c,
    perMillionEvents: {
      incidents: perMillion(c.incidents, c.events),
      analyses: perMillion(c.analyses, c.events),
      llmCalls: perMillion(c.llmCalls, c.events),
      inputTokens: perMillion(c.inputTokens, c.events),
      outputTokens: perMillion(c.outputTokens, c.events),
      totalTokens: perMillion(c.inputTokens + c.outputTokens, c.events),
    },
    tokensPerAnalysis: c.analyses ? Math.round((c.inputTokens + c.outputTokens) / c.analyses) : 0,
    /** For scale: if every forwarded event were analysed on its own (no grouping), at this run's calls/tokens per analysis. */
    ungroupedPerMillionEvents: {
      analyses: perMillion(c.forwarded, c.events),
      llmCalls: perMillion(c.analyses ? (c.forwarded * c.llmCalls) / c.analyses : 0, c.events),
      totalTokens: perMillion(
        c.analyses ? (c.forwarded * (c.inputTokens + c.outputTokens)) / c.analyses : 0,
        c.events,
      ),
    },
  };
}

// Recorded before the runs: the code that runs is the code at this commit.
const commit = (() => {
  try {
    const head = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
    const dirty = execSync(
      'git status --porcelain -- src/agents/analyse src/llm src/gate bench/llm-cost.ts',
      { cwd: ROOT },
    )
      .toString()
      .trim();
    return dirty === '' ? head : `${head}+uncommitted`;
  } catch {
    return 'unknown';
  }
})();

const server = await startFakeLlmServer({ record: false });
server.respond(scriptedModel);
const totals = { gated: emptyCounters(), ungated: emptyCounters() };
const runs: unknown[] = [];
const started = performance.now();
try {
  for (const seed of seeds) {
    const gated = await makeMode('gated', server.url);
    const ungated = await makeMode('ungated', server.url);
    const gate = new Gate({ forwardRate, seed });
    const normalize = createNormalizer();
    const t0 = performance.now();
    for (const { alert } of generateScenario({ seed, minutes, rate })) {
      const ev = normalize(alert);
      const wire = toEventWire(ev);
      gated.c.events++;
      ungated.c.events++;
      if (gate.process(ev).forwarded) await gated.forward(wire);
      await ungated.forward(wire);
    }
    await gated.finish();
    await ungated.finish();
    const run = {
      seed,
      wallMs: Math.round(performance.now() - t0),
      gated: summary(gated.c),
      ungated: summary(ungated.c),
    };
    runs.push(run);
    for (const [k, m] of [
      ['gated', gated],
      ['ungated', ungated],
    ] as const)
      for (const f of Object.keys(m.c) as (keyof ModeCounters)[]) totals[k][f] += m.c[f];
    process.stdout.write(
      `seed ${seed}: ${gated.c.events} events; gated ${gated.c.forwarded} fwd, ${gated.c.analyses} analyses, ${gated.c.llmCalls} calls, ${gated.c.inputTokens + gated.c.outputTokens} tokens; ` +
        `ungated ${ungated.c.analyses} analyses, ${ungated.c.llmCalls} calls, ${ungated.c.inputTokens + ungated.c.outputTokens} tokens (${(run.wallMs / 1000).toFixed(0)} s)\n`,
    );
  }
} finally {
  await server.close();
}

function emptyCounters(): ModeCounters {
  return {
    events: 0,
    forwarded: 0,
    incidents: 0,
    analyses: 0,
    llmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    degraded: 0,
  };
}

const g = summary(totals.gated);
const u = summary(totals.ungated);
const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 10) / 10);

const result = {
  benchmark: 'llm-cost',
  date: new Date().toISOString(),
  commit,
  ...machineInfo(),
  loadavg: loadAverage(),
  scenario: {
    seeds,
    minutes,
    rate,
    forwardRate,
    windowMs,
    reanalysisMs,
    maxEventsPerAnalysis: MAX_EVENTS_PER_ANALYSIS,
  },
  model:
    'fake LLM server (OpenAI wire): one events.search round then an answer; usage = request/answer chars / 4',
  fakeServerRequests: server.stats.requests,
  degradedCodes,
  gated: g,
  ungated: u,
  /** How many times more the analysis costs without the gate (per million events). */
  withoutGateOverWithGate: {
    llmCalls: ratio(u.perMillionEvents.llmCalls, g.perMillionEvents.llmCalls),
    totalTokens: ratio(u.perMillionEvents.totalTokens, g.perMillionEvents.totalTokens),
    /** The same without the coordinator's grouping (one analysis per forwarded event). */
    ungroupedLlmCalls: ratio(u.ungroupedPerMillionEvents.llmCalls, g.ungroupedPerMillionEvents.llmCalls),
  },
  wallMs: Math.round(performance.now() - started),
  runs,
};
process.stdout.write(
  `${JSON.stringify({ gated: g.perMillionEvents, ungated: u.perMillionEvents, ratio: result.withoutGateOverWithGate }, null, 2)}\n`,
);
if (!hasFlag('--no-write')) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'llm-cost.json'), `${JSON.stringify(result, null, 2)}\n`);
}
