import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { isFalconerError } from '../../errors.ts';
import { NotifyOutput, type NotifyInput } from '../contracts.ts';
import { NotifyConfigSchema } from './config.ts';
import { MemoryDedupeStore } from './dedupe.ts';
import { Dispatcher } from './dispatcher.ts';
import { createNotifyService } from './service.ts';
import { mattermostPayload } from './sinks/mattermost.ts';
import { webhookNotifier } from './sinks/webhook.ts';

// ---- a real HTTP receiver on 127.0.0.1:0 ----

interface Received {
  readonly at: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}
type Reply = { status: number; headers?: Record<string, string> } | 'hang';

interface Receiver {
  readonly url: string;
  readonly requests: Received[];
  close(): Promise<void>;
}

const receivers: Receiver[] = [];
const dirs: string[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function receiver(
  reply: (req: Received, index: number) => Reply = () => ({ status: 200 }),
): Promise<Receiver> {
  const requests: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        at: performance.now(),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      const answer = reply(r, requests.length - 1);
      if (answer === 'hang') return; // never answers: the client must give up
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.status < 300 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const r: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(r);
  return r;
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'falconer-notify-'));
  dirs.push(d);
  return d;
}

// ---- inputs ----

function input(over: Partial<NotifyInput> & { pod?: string; explanation?: string } = {}): NotifyInput {
  const pod = over.pod ?? 'checkout-7d4b9c8f6d-x2k9p';
  const workload = {
    key: `pod:default/shop/${pod}`,
    kind: 'pod' as const,
    host: 'ip-10-0-1-12',
    namespace: 'shop',
    pod,
    image: 'registry.example/shop/checkout:1.2.3',
  };
  const { pod: _p, explanation, ...rest } = over;
  return {
    kind: 'approval.needed',
    dedupeKey: 'inc-1:approval.needed:1',
    incident: {
      id: 'inc-1',
      workload,
      severity: 'high',
      status: 'awaiting-approval',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      signals: [],
    },
    analysis: {
      verdict: 'true_positive',
      confidence: 0.93,
      severity: 'critical',
      techniques: [
        { id: 'T1059.004', name: 'Command and Scripting Interpreter: Unix Shell', tactic: 'Execution' },
      ],
      explanation: explanation ?? 'Reverse shell from the web server [event ev-1].',
      citedEventIds: ['ev-1'],
      recommendedActions: ['isolate-pod', 'label-pod'],
      analyst: 'offline',
    },
    proposals: [
      {
        id: 'p-1',
        kind: 'isolate-pod',
        target: { namespace: 'shop', pod },
        params: {},
        manifests: [],
        dryRun: true,
      },
    ],
    links: {
      'p-1': {
        approve: 'https://falconer.example/approve?t=abc',
        reject: 'https://falconer.example/reject?t=def',
      },
    },
    incidentUrl: 'https://falconer.example/incidents/inc-1',
    ...rest,
  };
}

const HOSTILE_POD = 'web-1 @channel @here <!channel> [click](http://evil.example) `x` *bold*\n@all';
const HOSTILE_EXPLANATION =
  'done ``` @channel <!here> <http://evil.example|login> [c](http://evil.example)\n\u202eevil';

/** Text outside code spans/blocks: where chat servers would render markup. */
function outsideCode(s: string): string {
  return s.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
}

function service(
  sinks: unknown[],
  extra: Record<string, unknown> = {},
  registry = new Registry(),
  print?: (line: string) => void,
): ReturnType<typeof createNotifyService> & { registry: Registry; dataDir: string } {
  const dataDir = tempDir();
  const config = NotifyConfigSchema.parse({ sinks, backoffMs: 1, maxBackoffMs: 5, ...extra });
  const s = createNotifyService({ config, registry, dataDir, ...(print !== undefined && { print }) });
  return Object.assign(s, { registry, dataDir });
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

// ---- formats ----

describe('notify: payload formats on the wire', () => {
  it('Mattermost: {text, attachments} with colour, workload, explanation, actions and links', async () => {
    const r = await receiver();
    const s = service([{ kind: 'mattermost', url: r.url, channel: 'soc' }]);
    const out = await s.handleNotify(input());
    NotifyOutput.parse(out);
    assert.deepEqual(out, { deliveries: [{ sink: 'mattermost', ok: true, attempts: 1 }], duplicate: false });
    assert.equal(r.requests.length, 1);
    assert.equal(r.requests[0]?.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(r.requests[0]?.body ?? ''), {
      text: '**Approval needed** · severity **critical** · incident `inc-1`',
      username: 'Falconer',
      channel: 'soc',
      attachments: [
        {
          fallback: 'Approval needed: critical incident inc-1',
          color: '#a30200',
          title: 'Approval needed (critical)',
          title_link: 'https://falconer.example/incidents/inc-1',
          text: '```\nReverse shell from the web server [event ev-1].\n```',
          fields: [
            { short: true, title: 'Workload', value: '`shop/checkout-7d4b9c8f6d-x2k9p`' },
            { short: true, title: 'Severity', value: 'critical' },
            { short: false, title: 'Image', value: '`registry.example/shop/checkout:1.2.3`' },
            { short: true, title: 'Verdict', value: 'true_positive (0.93)' },
            {
              short: false,
              title: 'ATT&CK',
              value: '`T1059.004 Command and Scripting Interpreter: Unix Shell`',
            },
            {
              short: false,
              title: 'Proposed actions',
              value:
                '- `isolate-pod` on `shop/checkout-7d4b9c8f6d-x2k9p` (dry run) — [Approve](https://falconer.example/approve?t=abc) · [Reject](https://falconer.example/reject?t=def)',
            },
          ],
          footer: 'Falconer',
        },
      ],
    });
  });

  it('Mattermost: attacker text cannot ping, link or break out of its code span', () => {
    const payload = JSON.stringify(
      mattermostPayload(input({ pod: HOSTILE_POD, explanation: HOSTILE_EXPLANATION })),
    );
    const rendered = outsideCode(
      JSON.parse(payload)
        .attachments[0].fields.map((f: { value: string }) => f.value)
        .join('\n'),
    );
    const text = outsideCode(JSON.parse(payload).attachments[0].text as string);
    for (const t of [rendered, text]) {
      assert.ok(!t.includes('@'), t);
      assert.ok(!t.includes('evil.example'), t);
    }
    assert.ok(!payload.includes('\\u202e') && !payload.includes('\u202e'));
  });

  it('Slack: Block Kit blocks with URL buttons; attacker text escaped, verbatim, in code', async () => {
    const r = await receiver();
    const s = service([{ kind: 'slack', url: r.url }]);
    await s.handleNotify(input({ pod: HOSTILE_POD, explanation: HOSTILE_EXPLANATION }));
    const body = JSON.parse(r.requests[0]?.body ?? '') as { text: string; blocks: Record<string, unknown>[] };
    assert.equal(
      body.text,
      'Approval needed: critical incident on shop/web-1 @channel @here &lt;!channel&gt; [click](http://evil.example) `x` *bold* @all',
    );
    assert.deepEqual(
      body.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'section', 'section', 'actions', 'actions', 'context'],
    );
    assert.deepEqual(body.blocks[0], {
      type: 'header',
      text: { type: 'plain_text', text: 'Approval needed: critical', emoji: false },
    });
    assert.deepEqual(body.blocks[5], {
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Approve', emoji: false },
          style: 'primary',
          url: 'https://falconer.example/approve?t=abc',
          action_id: 'approve:p-1',
        },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Reject', emoji: false },
          style: 'danger',
          url: 'https://falconer.example/reject?t=def',
          action_id: 'reject:p-1',
        },
      ],
    });
    const raw = r.requests[0]?.body ?? '';
    // No Slack control sequences (<!channel>, <url|label>) survive anywhere.
    assert.ok(!/<[!@#]|<https?:/.test(raw), raw);
    const section = body.blocks[1] as { fields: { text: string; verbatim: boolean }[] };
    assert.equal(section.fields[0]?.verbatim, true);
    assert.equal(
      section.fields[0]?.text,
      '*Workload*\n`shop/web-1 @channel @here &lt;!channel&gt; [click](http://evil.example) ˋxˋ *bold* @all`',
    );
    const explanation = body.blocks[3] as { text: { text: string } };
    assert.ok(!outsideCode(explanation.text.text).includes('@'));
  });

  it('generic webhook: the NotifyInput as JSON with a verifiable HMAC-SHA256 signature', async () => {
    const r = await receiver();
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'hook.secret'), 's3cret\n', { mode: 0o600 });
    const config = NotifyConfigSchema.parse({
      sinks: [{ kind: 'webhook', url: r.url, secretFile: 'hook.secret' }],
    });
    const svc = createNotifyService({ config, registry: new Registry(), dataDir });
    const message = input();
    await svc.handleNotify(message);
    const req = r.requests[0] as Received;
    assert.equal(req.body, JSON.stringify(message));
    assert.equal(req.headers['x-falconer-event'], 'approval.needed');
    assert.equal(req.headers['x-falconer-delivery'], 'inc-1:approval.needed:1');
    const ts = req.headers['x-falconer-timestamp'] as string;
    const expected = `sha256=${createHmac('sha256', 's3cret').update(`${ts}.${req.body}`).digest('hex')}`;
    assert.equal(req.headers['x-falconer-signature'], expected);
  });

  it('generic webhook without a secret sends no signature', async () => {
    const r = await receiver();
    const notifier = webhookNotifier({ name: 'hook', url: r.url });
    await notifier.send(input(), AbortSignal.timeout(5000));
    assert.equal(r.requests[0]?.headers['x-falconer-signature'], undefined);
  });

  it('file sink: appends NDJSON (0600) and prints a one-line summary', async () => {
    const lines: string[] = [];
    const s = service([{ kind: 'file' }], {}, new Registry(), (l) => lines.push(l));
    await s.handleNotify(input({ pod: HOSTILE_POD }));
    await s.handleNotify(input({ dedupeKey: 'inc-1:resolved', kind: 'incident.resolved' }));
    const path = join(s.dataDir, 'notifications.ndjson');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const records = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(records.length, 2);
    assert.equal(records[0].notification.dedupeKey, 'inc-1:approval.needed:1');
    assert.equal(lines.length, 2);
    assert.ok(!lines[0]?.includes('\n'));
    assert.match(
      lines[0] ?? '',
      /^\[falconer\] Approval needed: severity=critical incident=inc-1 workload=shop\/web-1 .* actions=isolate-pod$/,
    );
    assert.match(lines[1] ?? '', /Incident resolved/);
  });
});

// ---- delivery behaviour ----

describe('notify: retries, timeouts, dedupe', () => {
  it('retries a 500 and succeeds on the 200, counting attempts', async () => {
    const r = await receiver((_req, i) => ({ status: i === 0 ? 500 : 200 }));
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url }]);
    const out = await s.handleNotify(input());
    assert.deepEqual(out.deliveries, [{ sink: 'hook', ok: true, attempts: 2 }]);
    assert.equal(r.requests.length, 2);
    assert.equal(
      await metric(s.registry, 'falconer_notification_attempts_total', {
        sink: 'hook',
        outcome: 'retryable',
      }),
      1,
    );
    assert.equal(
      await metric(s.registry, 'falconer_notification_attempts_total', { sink: 'hook', outcome: 'ok' }),
      1,
    );
    assert.equal(
      await metric(s.registry, 'falconer_notifications_total', { sink: 'hook', outcome: 'delivered' }),
      1,
    );
  });

  it('waits as long as a 429 Retry-After says', async () => {
    const r = await receiver((_req, i) =>
      i === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url }]);
    const out = await s.handleNotify(input());
    assert.equal(out.deliveries[0]?.ok, true);
    const [first, second] = r.requests as [Received, Received];
    assert.ok(second.at - first.at >= 950, `retried after ${Math.round(second.at - first.at)} ms`);
  });

  it('a sink given kinds receives only those; the others still get every kind', async () => {
    const chat = await receiver();
    const archive = await receiver();
    const s = service([
      { kind: 'webhook', name: 'chat', url: chat.url, kinds: ['approval.needed', 'incident.resolved'] },
      { kind: 'webhook', name: 'archive', url: archive.url },
    ]);
    const dismissed = await s.handleNotify(input({ kind: 'incident.dismissed', dedupeKey: 'k-dismissed' }));
    assert.deepEqual(
      dismissed.deliveries.map((d) => d.sink),
      ['archive'],
    );
    const needed = await s.handleNotify(input({ kind: 'approval.needed', dedupeKey: 'k-needed' }));
    assert.deepEqual(needed.deliveries.map((d) => `${d.sink}:${d.ok}`).sort(), ['archive:true', 'chat:true']);
    assert.equal(chat.requests.length, 1);
    assert.equal(archive.requests.length, 2);
    // An unknown kind in the config is refused with its path.
    assert.throws(
      () =>
        NotifyConfigSchema.parse({ sinks: [{ kind: 'webhook', url: chat.url, kinds: ['incident.lost'] }] }),
      /kinds/,
    );
  });

  it('does not retry a 400, and does not record the key so the caller may retry', async () => {
    const r = await receiver(() => ({ status: 400 }));
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url }]);
    const out = await s.handleNotify(input());
    assert.equal(out.deliveries[0]?.ok, false);
    assert.equal(out.deliveries[0]?.attempts, 1);
    assert.match(out.deliveries[0]?.error ?? '', /HTTP 400/);
    const again = await s.handleNotify(input());
    assert.equal(again.duplicate, false);
    assert.equal(r.requests.length, 2);
  });

  it('aborts a hanging endpoint, counts it, and still delivers to the other sinks', async () => {
    const hanging = await receiver(() => 'hang');
    const good = await receiver();
    const lines: string[] = [];
    const s = service(
      [
        { kind: 'webhook', name: 'hanging', url: hanging.url, timeoutMs: 150, retries: 1 },
        { kind: 'slack', url: good.url },
        { kind: 'file' },
      ],
      {},
      new Registry(),
      (l) => lines.push(l),
    );
    const started = performance.now();
    const out = await s.handleNotify(input());
    assert.ok(performance.now() - started < 3000);
    assert.deepEqual(out.deliveries, [
      { sink: 'hanging', ok: false, attempts: 2, error: 'timed out after 150 ms' },
      { sink: 'slack', ok: true, attempts: 1 },
      { sink: 'file', ok: true, attempts: 1 },
    ]);
    assert.equal(hanging.requests.length, 2);
    assert.equal(good.requests.length, 1);
    assert.equal(lines.length, 1);
    assert.equal(
      await metric(s.registry, 'falconer_notification_attempts_total', {
        sink: 'hanging',
        outcome: 'timeout',
      }),
      2,
    );
    assert.equal(
      await metric(s.registry, 'falconer_notifications_total', { sink: 'hanging', outcome: 'failed' }),
      1,
    );
    assert.equal(
      await metric(s.registry, 'falconer_notifications_total', { sink: 'slack', outcome: 'delivered' }),
      1,
    );
  });

  it('one incident stuck on a slow endpoint does not hold up another', async () => {
    const r = await receiver((req) => (req.body.includes('"stuck"') ? 'hang' : { status: 200 }));
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url, timeoutMs: 2000, retries: 0 }], {
      concurrency: 2,
    });
    const stuck = s.handleNotify(input({ dedupeKey: 'stuck' }));
    const fast = await s.handleNotify(input({ dedupeKey: 'fast' }));
    assert.equal(fast.deliveries[0]?.ok, true);
    assert.equal(s.dispatcher.active, 1, 'the stuck one is still in flight');
    await s.close();
    const out = await stuck;
    assert.equal(out.deliveries[0]?.ok, false);
  });

  it('sends a dedupeKey once: later and concurrent repeats are reported duplicate', async () => {
    const r = await receiver();
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url }]);
    const [a, b] = await Promise.all([s.handleNotify(input()), s.handleNotify(input())]);
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, true);
    const c = await s.handleNotify(input());
    assert.deepEqual(c, { deliveries: [], duplicate: true });
    assert.equal(r.requests.length, 1);
    assert.equal(
      await metric(s.registry, 'falconer_notifications_total', { sink: '-', outcome: 'duplicate' }),
      2,
    );
  });

  it('refuses work beyond the queue bound instead of buffering it', async () => {
    const r = await receiver(() => 'hang');
    const s = service([{ kind: 'webhook', name: 'hook', url: r.url, timeoutMs: 5000, retries: 0 }], {
      concurrency: 1,
      queueLimit: 1,
    });
    const first = s.handleNotify(input({ dedupeKey: 'k1' }));
    const second = s.handleNotify(input({ dedupeKey: 'k2' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await assert.rejects(s.handleNotify(input({ dedupeKey: 'k3' })), (err) =>
      isFalconerError(err, 'NOTIFY_QUEUE_FULL'),
    );
    await s.close();
    assert.equal((await first).deliveries[0]?.ok, false);
    await assert.rejects(second, (err) => isFalconerError(err, 'NOTIFY_CLOSED'));
  });

  it('memory dedupe store forgets after its TTL and beyond its size', async () => {
    let now = 0;
    const store = new MemoryDedupeStore({ maxKeys: 2, ttlMs: 1000, now: () => now });
    await store.add('a');
    await store.add('b');
    await store.add('c');
    assert.equal(await store.has('a'), false);
    assert.equal(await store.has('c'), true);
    now = 2000;
    assert.equal(await store.has('c'), false);
  });
});

describe('notify: config and input', () => {
  it('defaults to the file sink and validates sinks', () => {
    const c = NotifyConfigSchema.parse({});
    assert.deepEqual(c.sinks, [{ kind: 'file', file: 'notifications.ndjson', console: true }]);
    assert.throws(
      () => NotifyConfigSchema.parse({ sinks: [{ kind: 'file' }, { kind: 'file' }] }),
      /duplicate sink name/,
    );
    assert.throws(
      () => NotifyConfigSchema.parse({ sinks: [{ kind: 'slack' }] }),
      /exactly one of url or urlFile/,
    );
    assert.throws(() => NotifyConfigSchema.parse({ sinks: [{ kind: 'webhook', url: 'ftp://x' }] }));
  });

  it('reads webhook URLs from a file and refuses a missing secret file clearly', async () => {
    const r = await receiver();
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'mm.url'), `${r.url}\n`);
    const config = NotifyConfigSchema.parse({ sinks: [{ kind: 'mattermost', urlFile: 'mm.url' }] });
    await createNotifyService({ config, registry: new Registry(), dataDir }).handleNotify(input());
    assert.equal(r.requests.length, 1);
    const bad = NotifyConfigSchema.parse({ sinks: [{ kind: 'webhook', url: r.url, secretFile: 'missing' }] });
    assert.throws(
      () => createNotifyService({ config: bad, registry: new Registry(), dataDir }),
      (err) => isFalconerError(err, 'NOTIFY_CONFIG'),
    );
  });

  it('handleNotify refuses input that breaks the contract', async () => {
    const s = service([{ kind: 'file', console: false }]);
    await assert.rejects(s.handleNotify({ kind: 'nope' }), (err) =>
      isFalconerError(err, 'NOTIFY_INPUT_INVALID'),
    );
  });

  it('Dispatcher refuses two sinks with one name', () => {
    const n = webhookNotifier({ name: 'x', url: 'http://127.0.0.1:1/' });
    assert.throws(
      () =>
        new Dispatcher({
          sinks: [
            { notifier: n, timeoutMs: 100, retries: 0 },
            { notifier: n, timeoutMs: 100, retries: 0 },
          ],
          registry: new Registry(),
        }),
      /duplicate/,
    );
  });
});
