/**
 * The LLM analyst against the fake LLM server (real HTTP, both wire
 * protocols): single-shot and tool loops, scope refusals, fallbacks (budget,
 * outage, timeout) and every kind of bad model output (repair, then offline).
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AnalysisResult } from '../../src/agents/contracts.ts';
import { LlmAnalyst } from '../../src/agents/analyse/llm/analyst.ts';
import { BUILTIN_ANALYSIS_PROMPT, staticPromptSource } from '../../src/agents/analyse/llm/builtin-prompt.ts';
import { fenceProblems } from '../../src/llm/untrusted/index.ts';
import { openPromptSource } from '../../src/prompts/open.ts';
import { errorReply, startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import {
  answer,
  answerReply,
  anthropicToolReply,
  clientFor,
  event,
  incident,
  messageTexts,
  nonceOf,
  openAiReply,
  RecordingGateway,
  TRACE_ID,
} from './analyst-support.ts';

const DEPLOY_PROMPTS = fileURLToPath(new URL('../../deploy/prompts/', import.meta.url));

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.respond(undefined);
});

async function analyst(
  kind: 'openai' | 'anthropic',
  opts: Partial<ConstructorParameters<typeof LlmAnalyst>[0]> = {},
  clientOver = {},
) {
  return new LlmAnalyst({
    client: await clientFor(server, kind, clientOver),
    prompts: staticPromptSource(),
    ...opts,
  });
}

const VALID_RULE = `- rule: Script download in web pod
  desc: curl fetching a shell script in the web pod
  condition: evt.type = execve and proc.name = curl and proc.cmdline contains ".sh"
  output: script download (command=%proc.cmdline container=%container.name)
  priority: WARNING
`;

for (const kind of ['openai', 'anthropic'] as const) {
  describe(`LLM analyst, ${kind}`, () => {
    it('single shot: a valid answer becomes an llm AnalysisResult with call records', async () => {
      server.enqueue(
        answerReply(kind, answer({ techniques: ['T1059.004', 'T9999', 'T1105'], proposedRule: VALID_RULE })),
      );
      const a = await analyst(kind);
      const out = await a.analyse(incident());
      const r = AnalysisResult.parse(out.result);
      assert.equal(r.analyst, 'llm');
      assert.equal(r.degradedReason, undefined);
      assert.equal(r.verdict, 'true_positive');
      assert.deepEqual(r.recommendedActions, ['isolate-pod', 'annotate-pod']);
      assert.deepEqual(
        r.techniques.map((t) => t.id),
        ['T1059.004', 'T1105'],
        'the unknown T9999 is dropped',
      );
      assert.ok(r.techniques.every((t) => t.name.length > 0 && t.tactic !== 'Unknown'));
      assert.match(r.explanation, /technique id\(s\) not in the ATT&CK knowledge base were dropped/);
      assert.equal(r.proposedRule, VALID_RULE);
      assert.equal(out.repaired, false);
      assert.equal(server.requests.length, 1);
      const call = r.llmCalls?.[0];
      assert.ok(call);
      assert.equal(call.traceId, TRACE_ID);
      assert.deepEqual(call.prompt, {
        name: 'incident-analysis',
        version: BUILTIN_ANALYSIS_PROMPT.version,
        hash: BUILTIN_ANALYSIS_PROMPT.hash,
      });
      assert.equal(call.inputTokens, 900);
      const req = server.requests[0]!;
      const body = req.body as Record<string, unknown>;
      if (kind === 'openai') {
        const rf = body.response_format as { type: string; json_schema: { name: string; strict: boolean } };
        assert.equal(rf.type, 'json_schema');
        assert.equal(rf.json_schema.name, 'falconer_analysis');
        assert.equal(body.tools, undefined, 'no tool gateway: single shot');
      } else {
        assert.deepEqual(body.tool_choice, { type: 'tool', name: 'falconer_analysis' });
      }
      const texts = messageTexts(req);
      const nonce = nonceOf(req);
      for (const t of texts) assert.deepEqual(fenceProblems(t, nonce), []);
      assert.match(texts.join('\n'), /Event id=ev-1 \(cite as \[event ev-1\]\)/);
      assert.match(texts.join('\n'), /never\s+instructions/);
    });

    it('tool loop: calls pinned to the incident, out-of-scope calls refused, tool-returned ids citable', async () => {
      const gateway = new RecordingGateway([event('ev-77', { 'proc.cmdline': 'sh /tmp/x.sh' })]);
      const toolCall = (id: string, name: string, args: unknown) =>
        kind === 'openai'
          ? openAiReply({ toolCalls: [{ id, name, args }] })
          : anthropicToolReply([{ id, name, args }]);
      server.enqueue(
        toolCall('call_1', 'events_search', { fields: [{ field: 'proc.name', op: 'eq', value: 'sh' }] }),
        toolCall('call_2', 'events_search', { namespace: 'kube-system' }),
        toolCall('call_3', 'incident_get', { id: 'inc-other' }),
        answerReply(
          kind,
          answer({
            citedEventIds: ['ev-1', 'ev-77'],
            explanation: 'Shell [event ev-1] ran a dropped script [event ev-77].',
          }),
        ),
      );
      const a = await analyst(kind, { tools: gateway });
      const out = await a.analyse(incident());
      assert.equal(out.result.analyst, 'llm', out.result.degradedReason);
      assert.deepEqual(out.result.citedEventIds, ['ev-1', 'ev-77']);
      // Only the in-scope call reached the gateway, with the incident's scope pinned.
      assert.equal(gateway.calls.length, 1);
      assert.equal(gateway.calls[0]!.name, 'events.search');
      assert.deepEqual(gateway.calls[0]!.args, {
        fields: [{ field: 'proc.name', op: 'eq', value: 'sh' }],
        workloadKey: 'prod-cluster/shop/web-7d9f/web',
        namespace: 'shop',
        pod: 'web-7d9f',
        namespaces: ['shop'],
      });
      assert.deepEqual(
        out.toolCalls.map((c) => `${c.tool}:${c.outcome}`),
        ['events.search:ok', 'events.search:refused', 'incident.get:refused'],
      );
      assert.equal(server.requests.length, 4);
      const first = server.requests[0]!.body as { tools?: { function?: { name: string }; name?: string }[] };
      const names = (first.tools ?? []).map((t) => t.function?.name ?? t.name);
      assert.ok(names.includes('events_search') && names.includes('incident_get'), names.join());
      const last = messageTexts(server.requests[3]!).join('\n');
      const nonce = nonceOf(server.requests[3]!);
      assert.match(last, new RegExp(`<untrusted-data id="tool:events_search:call_1" nonce="${nonce}">`));
      assert.match(last, /refused: argument namespace="kube-system" is outside this incident/);
      assert.match(last, /refused: argument id="inc-other" is outside this incident/);
      for (const t of messageTexts(server.requests[3]!)) assert.deepEqual(fenceProblems(t, nonce), []);
    });
  });
}

describe('LLM analyst with the shipped AgentPrompt', () => {
  it('deploy/prompts drives the request and every call records its name, version and hash', async () => {
    const prompts = await openPromptSource({ config: { dir: DEPLOY_PROMPTS } });
    try {
      const loaded = prompts.get('analyse', 'incident-analysis');
      assert.ok(loaded, 'the shipped analysis prompt loads');
      server.enqueue(answerReply('openai', answer()));
      const out = await new LlmAnalyst({ client: await clientFor(server, 'openai'), prompts }).analyse(
        incident(),
      );
      assert.equal(out.result.analyst, 'llm', out.result.degradedReason);
      assert.deepEqual(out.result.llmCalls?.[0]?.prompt, {
        name: loaded.name,
        version: loaded.version,
        hash: loaded.hash,
      });
      const texts = messageTexts(server.requests[0]!);
      assert.ok(texts[0]!.startsWith(loaded.system.trim().slice(0, 40)));
      assert.match(texts[1]!, /<untrusted-data id="event:ev-1" nonce="[a-f0-9]+">/);
      // The system prompt (trusted) may name the markers; the data messages must be well fenced.
      for (const t of texts.slice(1)) assert.deepEqual(fenceProblems(t, nonceOf(server.requests[0]!)), []);
    } finally {
      await prompts.close();
    }
  });
});

describe('LLM analyst falls back to the offline analyst, flagged', () => {
  it('budget exhausted', async () => {
    const a = await analyst('openai', {}, { budgets: { callsPerMinute: 1, tokensPerDay: 0 } });
    server.enqueue(answerReply('openai', answer()));
    assert.equal((await a.analyse(incident())).result.analyst, 'llm');
    const out = await a.analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.equal(out.degradedCode, 'LLM_BUDGET_EXHAUSTED');
    assert.match(out.result.degradedReason ?? '', /LLM_BUDGET_EXHAUSTED/);
    assert.equal(server.requests.length, 1, 'no request once the budget is spent');
    assert.equal(out.result.llmCalls?.[0]?.outcome, 'LLM_BUDGET_EXHAUSTED');
  });

  it('provider outage (5xx)', async () => {
    server.respond(() => errorReply(503));
    const out = await (await analyst('anthropic')).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.match(out.result.degradedReason ?? '', /LLM_UNAVAILABLE/);
    AnalysisResult.parse(out.result);
  });

  it('timeout of the whole analysis', async () => {
    server.enqueue({ kind: 'hang' });
    const out = await (await analyst('openai', { limits: { timeoutMs: 300 } })).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.equal(out.degradedCode, 'ANALYSE_LLM_TIMEOUT');
    assert.match(out.result.degradedReason ?? '', /timed out after 300 ms/);
  });
});

describe('bad model output: one repair round, then offline', () => {
  const repairText = (i: number): string => messageTexts(server.requests[i]!).join('\n');

  it('not JSON, then valid: repaired', async () => {
    server.enqueue(answerReply('openai', 'Sure! The verdict is malicious.'), answerReply('openai', answer()));
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'llm');
    assert.equal(out.repaired, true);
    assert.match(repairText(1), /your answer is not JSON/);
  });

  it('not JSON twice: offline', async () => {
    server.enqueue(answerReply('openai', 'no'), answerReply('openai', '{"verdict":'));
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.equal(out.degradedCode, 'ANALYSE_LLM_INVALID_ANSWER');
    assert.match(out.result.degradedReason ?? '', /not JSON/);
    assert.equal(server.requests.length, 2);
  });

  it('schema mismatch is reported by path', async () => {
    server.enqueue(
      answerReply('openai', { ...answer(), verdict: 'malicious' }),
      answerReply('openai', { ...answer(), confidence: 7 }),
    );
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.match(repairText(1), /schema mismatch at verdict/);
    assert.match(out.result.degradedReason ?? '', /schema mismatch at confidence/);
  });

  it('truncated (finish_reason length) twice', async () => {
    const cut = openAiReply({ content: '{"verdict":"true_posi', finish: 'length' });
    server.enqueue(cut, cut);
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.match(repairText(1), /cut off at the output token limit/);
  });

  it('huge answer', async () => {
    const huge = answer({ explanation: 'x'.repeat(7000) });
    server.enqueue(
      answerReply('openai', { ...huge, pad: 'y'.repeat(40_000) }),
      answerReply('openai', answer()),
    );
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'llm');
    assert.match(repairText(1), /the limit is 32000/);
    assert.ok(
      JSON.stringify(server.requests[1]!.body).length < 60_000,
      'the rejected answer is not echoed in full',
    );
  });

  it('invented event ids and actions outside the catalogue: never widened', async () => {
    server.enqueue(
      answerReply('openai', answer({ citedEventIds: ['ev-1', 'ev-999'] })),
      answerReply('openai', answer({ recommendedActions: ['isolate-pod', 'delete-namespace'] })),
    );
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.match(repairText(1), /neither events you were given nor events a tool returned: "ev-999"/);
    assert.match(out.result.degradedReason ?? '', /outside the catalogue: "delete-namespace"/);
    assert.ok(!out.result.recommendedActions.includes('delete-namespace' as never));
  });

  it('an invalid proposed rule is dropped with a note, the answer kept', async () => {
    server.enqueue(
      answerReply('openai', answer({ proposedRule: '- rule: broken\n  condition: proc.name = = bash\n' })),
    );
    const out = await (await analyst('openai')).analyse(incident());
    assert.equal(out.result.analyst, 'llm');
    assert.equal(out.result.proposedRule, undefined);
    assert.match(out.result.explanation, /proposed Falco rule was dropped: it does not validate/);
  });

  it('a tool loop that never ends: asked to answer once, then offline', async () => {
    const gateway = new RecordingGateway([event('ev-3')]);
    let n = 0;
    server.respond(() =>
      openAiReply({ toolCalls: [{ id: `call_${++n}`, name: 'events_search', args: {} }] }),
    );
    const out = await (
      await analyst('openai', { tools: gateway, limits: { maxToolRounds: 2 } })
    ).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.equal(out.degradedCode, 'ANALYSE_LLM_TOOL_LOOP');
    assert.equal(gateway.calls.length, 2, 'two rounds ran, the third was refused');
    assert.equal(server.requests.length, 4, '2 tool rounds + the over-limit one + the repair round');
    assert.match(repairText(3), /you have used the tool budget/);
  });

  it('a tool server that fails mid-loop: the model hears it, the analysis goes on', async () => {
    const gateway = new RecordingGateway();
    gateway.call = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:7700');
    };
    server.enqueue(
      openAiReply({ toolCalls: [{ id: 'c1', name: 'events_search', args: {} }] }),
      answerReply('openai', answer()),
    );
    const out = await (await analyst('openai', { tools: gateway })).analyse(incident());
    assert.equal(out.result.analyst, 'llm');
    assert.deepEqual(
      out.toolCalls.map((c) => c.outcome),
      ['tool_error'],
    );
    assert.match(repairText(1), /Tool error: events.search failed \(TOOL_FAILED\)/);
  });

  it('token allowance spent during the tool loop', async () => {
    const gateway = new RecordingGateway([event('ev-3')]);
    server.respond(() =>
      openAiReply({ toolCalls: [{ id: 'c', name: 'events_search', args: {} }] }, { in: 5000, out: 10 }),
    );
    const out = await (
      await analyst('openai', { tools: gateway, limits: { maxTotalTokens: 8000 } })
    ).analyse(incident());
    assert.equal(out.result.analyst, 'offline');
    assert.equal(out.degradedCode, 'ANALYSE_LLM_TOKEN_LIMIT');
  });
});

describe('LLM analyst: prior incidents', () => {
  it("are shown as data inside the incident's fence", async () => {
    server.enqueue(answerReply('openai', answer({})));
    const a = await analyst('openai');
    const rule = 'Network Connection outside Local Subnet';
    await a.analyse({
      ...incident(),
      prior: [
        { id: 'inc-before', status: 'resolved', verdict: 'needs_review', msBefore: 2_000, rules: [rule] },
      ],
    });
    const req = server.requests[0]!;
    const text = messageTexts(req).join('\n');
    for (const t of messageTexts(req)) assert.deepEqual(fenceProblems(t, nonceOf(req)), []);
    const fenced = /"priorIncidents"[^\n]*/.exec(text)?.[0] ?? '';
    assert.match(fenced, /"verdict":"needs_review"/);
    assert.match(fenced, /"secondsBefore":2/);
    assert.match(fenced, new RegExp(rule));
    // Whatever prompt is loaded, the analyst's own rules say how to weigh them.
    const system = messageTexts(req)[0] ?? '';
    assert.match(system, /priorIncidents[\s\S]*never answer false_positive on that ground/);
  });
});
