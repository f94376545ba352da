/** The skill handler with and without an LLM analyst, the analyse config block and the MCP token. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AnalyseConfigSchema } from '../../src/agents/analyse/config.ts';
import { handleAnalyseWith } from '../../src/agents/analyse/handler.ts';
import { mcpToken, ReconnectingGateway } from '../../src/agents/analyse/llm/adapters.ts';
import { LlmAnalyst } from '../../src/agents/analyse/llm/analyst.ts';
import { staticPromptSource } from '../../src/agents/analyse/llm/builtin-prompt.ts';
import { isFalconerError } from '../../src/errors.ts';
import { startFakeLlmServer, type FakeLlmServer } from '../support/fake-llm-server.ts';
import { answer, answerReply, clientFor, incident, RecordingGateway } from './analyst-support.ts';

let server: FakeLlmServer;
before(async () => {
  server = await startFakeLlmServer();
});
after(async () => {
  await server.close();
});

describe('incident.analyse handler', () => {
  it('without an analyst: the offline analyst, unflagged', async () => {
    const r = await handleAnalyseWith(incident(), undefined);
    assert.equal(r.analyst, 'offline');
    assert.equal(r.degradedReason, undefined);
    assert.equal(server.requests.length, 0);
  });

  it('with an analyst: the LLM answers', async () => {
    server.enqueue(answerReply('openai', answer()));
    const analyst = new LlmAnalyst({
      client: await clientFor(server, 'openai'),
      prompts: staticPromptSource(),
    });
    const r = await handleAnalyseWith(incident(), analyst);
    assert.equal(r.analyst, 'llm');
    assert.equal(r.llmCalls?.length, 1);
  });

  it('invalid input is refused before any LLM call', async () => {
    const before = server.requests.length;
    const analyst = new LlmAnalyst({
      client: await clientFor(server, 'openai'),
      prompts: staticPromptSource(),
    });
    await assert.rejects(handleAnalyseWith({ incident: { id: 'x' }, events: [] }, analyst), (e) =>
      isFalconerError(e, 'ANALYSE_INPUT_INVALID'),
    );
    assert.equal(server.requests.length, before);
  });

  it('a missing prompt (no built-in fallback) degrades to offline, flagged', async () => {
    const analyst = new LlmAnalyst({
      client: await clientFor(server, 'openai'),
      prompts: staticPromptSource([]),
      builtinFallback: false,
    });
    const r = await handleAnalyseWith(incident(), analyst);
    assert.equal(r.analyst, 'offline');
    assert.match(r.degradedReason ?? '', /ANALYSE_LLM_NO_PROMPT/);
  });
});

describe('analyse config block', () => {
  it('defaults', () => {
    const c = AnalyseConfigSchema.parse(undefined);
    assert.equal(c.mcp, undefined);
    assert.equal(c.maxToolRounds, 6);
    assert.equal(c.prompts.name, 'incident-analysis');
  });

  it('refuses both token sources, unknown keys and bad limits', () => {
    assert.throws(() =>
      AnalyseConfigSchema.parse({ mcp: { url: 'http://x/mcp', tokenFile: '/t', tokenEnv: 'T' } }),
    );
    assert.throws(() => AnalyseConfigSchema.parse({ maxToolRound: 3 }));
    assert.throws(() => AnalyseConfigSchema.parse({ maxToolRounds: 99 }));
    assert.throws(() => AnalyseConfigSchema.parse({ mcp: { url: 'ftp://x' } }));
  });
});

describe('MCP token', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'falconer-analyse-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('from a file (trimmed) or an env var; missing is a clear config error', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'tok-123\n');
    assert.equal(await mcpToken({ url: 'http://x/mcp', tokenFile: file }), 'tok-123');
    assert.equal(await mcpToken({ url: 'http://x/mcp', tokenEnv: 'MCP_T' }, { MCP_T: 'tok-env' }), 'tok-env');
    await assert.rejects(mcpToken({ url: 'http://x/mcp', tokenEnv: 'MCP_T' }, {}), (e) =>
      isFalconerError(e, 'CONFIG_INVALID'),
    );
    await assert.rejects(mcpToken({ url: 'http://x/mcp', tokenFile: join(dir, 'nope') }), (e) =>
      isFalconerError(e, 'CONFIG_INVALID'),
    );
  });
});

describe('ReconnectingGateway', () => {
  it('retries the connection after a failure and replaces a connection whose call threw', async () => {
    let attempts = 0;
    const made: RecordingGateway[] = [];
    const g = new ReconnectingGateway(async () => {
      attempts++;
      if (attempts === 1) throw new Error('ECONNREFUSED');
      const r = new RecordingGateway();
      made.push(r);
      return r;
    });
    await assert.rejects(g.list(), /ECONNREFUSED/);
    assert.equal((await g.list()).length, 2);
    assert.equal(attempts, 2);
    made[0]!.call = async () => {
      throw new Error('socket hang up');
    };
    await assert.rejects(g.call('events.search', {}), /socket hang up/);
    assert.equal(made[0]!.closed, true);
    assert.equal((await g.call('events.search', {})).isError, false);
    assert.equal(attempts, 3);
    await g.close();
    assert.equal(made[1]!.closed, true);
  });
});
