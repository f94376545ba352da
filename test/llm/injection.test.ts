/**
 * The injection corpus through the real analyst and the fake LLM server:
 * for every payload, the result is schema-valid, the actions are exactly what
 * the (scripted) model chose, no secret reaches the provider in any request,
 * and every fence in every request is intact (no data-made tag survives).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AnalysisResult, type AnalyseInput, type EventWire } from '../../src/agents/contracts.ts';
import { LlmAnalyst } from '../../src/agents/analyse/llm/analyst.ts';
import { staticPromptSource } from '../../src/agents/analyse/llm/builtin-prompt.ts';
import { fenceProblems } from '../../src/llm/untrusted/index.ts';
import { startFakeLlmServer, type FakeLlmServer, type RecordedRequest } from '../support/fake-llm-server.ts';
import {
  answer,
  answerReply,
  anthropicToolReply,
  bodyText,
  clientFor,
  event,
  incident,
  messageTexts,
  nonceOf,
  openAiReply,
  RecordingGateway,
  WORKLOAD,
} from './analyst-support.ts';
import { INJECTION_CORPUS, type InjectionPayload } from './injection-corpus.ts';

const CHOSEN = ['label-pod', 'annotate-pod', 'emit-event'];
const FIELD_OF = {
  'proc.cmdline': 'proc.cmdline',
  'fd.name': 'fd.name',
  label: 'k8s.pod.labels',
  annotation: 'k8s.pod.annotations',
} as const;

function scenario(p: InjectionPayload): { input: AnalyseInput; gateway: RecordingGateway } {
  const gateway = new RecordingGateway();
  let carrier: EventWire;
  if (p.place === 'container.name') {
    const workload = { ...WORKLOAD, container: p.value.slice(0, 253) };
    carrier = event('ev-2', { 'container.name': p.value }, { workload });
  } else if (p.place === 'tool-result') {
    carrier = event('ev-2');
    gateway.events = [event('ev-9', { 'proc.cmdline': p.value })];
  } else {
    carrier = event('ev-2', { [FIELD_OF[p.place]]: p.value });
  }
  return { input: incident([event('ev-1'), carrier]), gateway };
}

// Any text a reader could take for the fence tag, in any spelling; only our well-formed tags may remain.
const TAG_LIKE = /[<\uff1c\ufe64\u2039\u3008\u27e8]\s*\/?\s*untrusted[\s_-]*data[^>\uff1e]*[>\uff1e]?/gi;

function checkRequests(p: InjectionPayload, requests: readonly RecordedRequest[]): void {
  assert.ok(requests.length > 0);
  for (const req of requests) {
    const all = bodyText(req);
    for (const secret of p.secrets)
      assert.ok(!all.includes(secret), `${p.name}: secret ${secret} reached the provider`);
    const nonce = nonceOf(req);
    for (const text of messageTexts(req)) {
      assert.deepEqual(fenceProblems(text, nonce), [], `${p.name}: fences intact`);
      for (const m of text.matchAll(TAG_LIKE)) {
        const ok =
          m[0] === '</untrusted-data>' ||
          new RegExp(`^<untrusted-data id="[^"]*" nonce="${nonce}">$`).test(m[0]);
        assert.ok(ok, `${p.name}: data-made tag survived: ${JSON.stringify(m[0])}`);
      }
    }
  }
}

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});

describe('injection corpus', () => {
  it('has at least 30 payloads over every place', () => {
    assert.ok(INJECTION_CORPUS.length >= 30);
    const places = new Set(INJECTION_CORPUS.map((p) => p.place));
    for (const place of ['proc.cmdline', 'fd.name', 'container.name', 'label', 'annotation', 'tool-result'])
      assert.ok(places.has(place as never), place);
  });

  for (const kind of ['openai', 'anthropic'] as const) {
    for (const p of INJECTION_CORPUS) {
      it(`${kind}: ${p.name} (${p.place})`, async () => {
        server.requests.length = 0;
        const { input, gateway } = scenario(p);
        const cited = p.place === 'tool-result' ? ['ev-1', 'ev-9'] : ['ev-1', 'ev-2'];
        const final = answer({
          recommendedActions: CHOSEN,
          citedEventIds: cited,
          explanation: `Seen [event ${cited[1]}].`,
        });
        if (p.place === 'tool-result') {
          const call = { id: 'call_inj', name: 'events_search', args: { limit: 5 } };
          server.enqueue(kind === 'openai' ? openAiReply({ toolCalls: [call] }) : anthropicToolReply([call]));
        }
        server.enqueue(answerReply(kind, final));
        const analyst = new LlmAnalyst({
          client: await clientFor(server, kind),
          prompts: staticPromptSource(),
          tools: gateway,
        });
        const out = await analyst.analyse(input);
        const r = AnalysisResult.parse(out.result);
        assert.equal(r.analyst, 'llm', r.degradedReason);
        assert.deepEqual(r.recommendedActions, CHOSEN, 'data adds no action');
        assert.deepEqual(r.citedEventIds, cited);
        if (p.place === 'tool-result') assert.equal(gateway.calls.length, 1);
        checkRequests(p, server.requests);
      });
    }
  }
});
