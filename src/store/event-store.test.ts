import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { gunzipSync } from 'node:zlib';
import { EventsQueryOutput, EventWire } from '../agents/contracts.ts';
import { normalizeAlert } from '../events/normalize.ts';
import { generateScenario } from '../scenario/generate.ts';
import { EventStoreConfigSchema, eventStoreOptions } from './event-store-config.ts';
import { EventStore, openEventStore } from './event-store.ts';

const T0 = Date.parse('2025-03-10T09:00:00Z');
const HOUR = 3_600_000;
let n = 0;

function ev(
  over: { id?: string; timeMs?: number; pod?: string; rule?: string; fields?: EventWire['fields'] } = {},
): EventWire {
  const pod = over.pod ?? 'web-1';
  const timeMs = over.timeMs ?? T0;
  return {
    id: over.id ?? `ev-${++n}`,
    timeMs,
    time: new Date(timeMs).toISOString(),
    rule: over.rule ?? 'Terminal shell in container',
    priority: 'Notice',
    priorityLevel: 5,
    source: 'syscall',
    hostname: 'node-1',
    tags: ['container', 'T1059'],
    output: 'A shell was spawned',
    fields: { 'proc.cmdline': 'bash', ...over.fields },
    workload: { key: `pod:default/shop/${pod}`, kind: 'pod', host: 'node-1', namespace: 'shop', pod },
  };
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'falconer-event-store-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('event store: queries', () => {
  const store = new EventStore();
  const events = [
    ev({ id: 'a1', timeMs: T0, pod: 'a' }),
    ev({ id: 'b1', timeMs: T0 + 1000, pod: 'b', rule: 'Read sensitive file untrusted' }),
    ev({ id: 'a2', timeMs: T0 + 2000, pod: 'a', rule: 'Read sensitive file untrusted' }),
    ev({ id: 'a3', timeMs: T0 + 3000, pod: 'a' }),
  ];
  store.add(events);

  it('gets by id and skips duplicates', () => {
    assert.equal(store.get('a2')?.rule, 'Read sensitive file untrusted');
    assert.equal(store.get('nope'), undefined);
    store.add([events[0] as EventWire]);
    assert.equal(store.size, 4);
    assert.equal(store.stats().duplicates, 1);
  });

  it('answers newest first, by workload, rule, ids and half-open time range', () => {
    const ids = (q: Parameters<EventStore['query']>[0]): string[] => store.query(q).events.map((e) => e.id);
    assert.deepEqual(ids({}), ['a3', 'a2', 'b1', 'a1']);
    assert.deepEqual(ids({ workloadKey: 'pod:default/shop/a' }), ['a3', 'a2', 'a1']);
    assert.deepEqual(ids({ rule: 'Read sensitive file untrusted' }), ['a2', 'b1']);
    assert.deepEqual(ids({ workloadKey: 'pod:default/shop/a', rule: 'Read sensitive file untrusted' }), [
      'a2',
    ]);
    assert.deepEqual(ids({ fromMs: T0 + 1000, toMs: T0 + 3000 }), ['a2', 'b1']);
    assert.deepEqual(ids({ ids: ['a1', 'a3', 'zz', 'b1'] }), ['a3', 'b1', 'a1']);
    assert.deepEqual(ids({ ids: ['a1', 'b1'], workloadKey: 'pod:default/shop/b' }), ['b1']);
    assert.deepEqual(ids({ workloadKey: 'pod:default/shop/none' }), []);
  });

  it('says when the limit cut the answer, and the answer is a valid wire output', () => {
    const out = store.query({ limit: 2 });
    assert.deepEqual(
      out.events.map((e) => e.id),
      ['a3', 'a2'],
    );
    assert.equal(out.truncated, true);
    assert.equal(store.query({ limit: 4 }).truncated, false);
    EventsQueryOutput.parse(out);
  });

  it('iterates oldest first, filtered, and survives adds and evictions meanwhile', () => {
    assert.deepEqual(
      [...store.iterate({ workloadKey: 'pod:default/shop/a', fromMs: T0 + 1 })].map((e) => e.id),
      ['a2', 'a3'],
    );
    const small = new EventStore({ maxEvents: 3 });
    small.add([ev({ id: 'x1' }), ev({ id: 'x2' }), ev({ id: 'x3' })]);
    const seen: string[] = [];
    for (const e of small.iterate()) {
      seen.push(e.id);
      if (e.id === 'x1') small.add([ev({ id: 'x4' }), ev({ id: 'x5' })]); // evicts x1, x2
    }
    assert.deepEqual(seen, ['x1', 'x3']);
  });
});

describe('event store: newestSince (backtest baselines)', () => {
  it('gives the newest events after a sequence number, bounded by count and bytes, oldest first', () => {
    const store = new EventStore({ maxEvents: 5 });
    for (let i = 0; i < 8; i++) store.add([ev({ id: `s-${i}`, timeMs: T0 + i })]);
    // Seqs 0..7 were added; 5 are kept (3..7).
    const all = store.newestSince(-1, 100);
    assert.deepEqual(all.seqs, [3, 4, 5, 6, 7]);
    assert.deepEqual(
      all.events.map((e) => e.id),
      ['s-3', 's-4', 's-5', 's-6', 's-7'],
    );
    assert.equal(all.oldestSeq, 3);
    assert.equal(all.sizes.length, 5);
    assert.ok(all.sizes.every((b) => b > 0));
    assert.deepEqual(store.newestSince(5, 100).seqs, [6, 7]);
    assert.deepEqual(store.newestSince(-1, 2).seqs, [6, 7]);
    const one = all.sizes[4]!;
    assert.deepEqual(store.newestSince(-1, 100, one * 2).seqs, [6, 7]);
    assert.deepEqual(store.newestSince(7, 100).seqs, []);
    assert.equal(new EventStore().newestSince(-1, 10).oldestSeq, -1);
  });
});

describe('event store: deferred adds (addLater)', () => {
  it('stores waiting events before any read, in the order they were handed over', async () => {
    const reads: [string, (s: EventStore) => unknown][] = [
      ['get', (s) => s.get('d-1')],
      ['size', (s) => s.size],
      ['query', (s) => s.query({})],
      ['iterate', (s) => [...s.iterate()]],
      ['oldestSeq', (s) => s.oldestSeq],
      ['newestSince', (s) => s.newestSince(-1, 10)],
      ['stats', (s) => s.stats()],
      ['evictBefore', (s) => s.evictBefore(0)],
    ];
    for (const [name, read] of reads) {
      const store = new EventStore();
      store.addLater([ev({ id: 'd-0', timeMs: T0 }), ev({ id: 'd-1', timeMs: T0 + 1 })]);
      assert.equal(store.pendingCount, 2, name);
      read(store);
      assert.equal(store.pendingCount, 0, `${name} stored the waiting events`);
      assert.deepEqual(
        [...store.iterate()].map((e) => e.id),
        ['d-0', 'd-1'],
        name,
      );
    }
    const snapshotted = new EventStore();
    snapshotted.addLater([ev({ id: 'snap' })]);
    const file = join(tempDir(), 'events.ndjson');
    assert.equal(await snapshotted.saveSnapshot(file), 1, 'the snapshot includes waiting events');
  });

  it("lets add() go ahead of waiting events (a forwarded event's signal does not wait for them)", () => {
    const store = new EventStore();
    store.addLater([ev({ id: 'later', timeMs: T0 })]);
    store.add([ev({ id: 'now', timeMs: T0 + 1 })]);
    assert.equal(store.pendingCount, 1, 'add did not store the waiting event');
    assert.ok(store.get('now'));
    assert.equal(store.pendingCount, 1, 'a get that finds its event stores nothing else');
    assert.deepEqual(
      [...store.iterate()].map((e) => e.id),
      ['now', 'later'],
    );
    // A duplicate handed over later is still skipped.
    store.addLater([ev({ id: 'now', timeMs: T0 + 1 })]);
    assert.equal(store.settle(), 0);
    assert.equal(store.stats().duplicates, 1);
  });

  it('settles in bounded steps, and stores the oldest at once beyond maxPending', () => {
    const store = new EventStore({ maxPending: 3 });
    store.addLater([1, 2, 3].map((i) => ev({ id: `p-${i}`, timeMs: T0 + i })));
    assert.equal(store.pendingCount, 3);
    store.addLater([ev({ id: 'p-4', timeMs: T0 + 4 }), ev({ id: 'p-5', timeMs: T0 + 5 })]);
    assert.equal(store.pendingCount, 3, 'never more than maxPending wait');
    assert.equal(store.settle(2), 1);
    assert.equal(store.settle(), 0);
    assert.deepEqual(
      [...store.iterate()].map((e) => e.id),
      ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'],
    );
    assert.throws(() => new EventStore({ maxPending: 0 }), /maxPending/);
  });
});

describe('event store: bounds', () => {
  it('evicts by count, oldest arrival first, and keeps its indexes consistent', () => {
    const store = new EventStore({ maxEvents: 100 });
    for (let i = 0; i < 1000; i++) store.add([ev({ id: `e${i}`, timeMs: T0 + i, pod: `p${i % 7}` })]);
    const s = store.stats();
    assert.equal(s.events, 100);
    assert.equal(s.evictedByCount, 900);
    assert.equal(s.oldestMs, T0 + 900);
    assert.equal(store.get('e899'), undefined);
    assert.ok(store.get('e900'));
    let total = 0;
    for (let p = 0; p < 7; p++)
      total += store.query({ workloadKey: `pod:default/shop/p${p}`, limit: 1000 }).events.length;
    assert.equal(total, 100);
    assert.equal(s.workloads, 7);
  });

  it('evicts by time (window back from the newest event) and refuses events already out of the window', () => {
    const store = new EventStore({ windowMs: HOUR });
    store.add([ev({ id: 'old', timeMs: T0 }), ev({ id: 'mid', timeMs: T0 + 30 * 60_000 })]);
    store.add([ev({ id: 'new', timeMs: T0 + HOUR + 1 })]);
    assert.equal(store.get('old'), undefined);
    assert.ok(store.get('mid'));
    store.add([ev({ id: 'late', timeMs: T0 - 1 })]);
    assert.equal(store.get('late'), undefined);
    assert.equal(store.stats().evictedByTime, 2);
    assert.equal(store.evictBefore(T0 + HOUR), 1);
    assert.deepEqual(
      store.query({}).events.map((e) => e.id),
      ['new'],
    );
  });

  it('keeps only bounded copies of hostile events, within the wire contract', () => {
    const store = new EventStore({ maxEventBytes: 4096 });
    const fields: EventWire['fields'] = {};
    for (let i = 0; i < 200; i++) fields[`f${i}`] = 'x'.repeat(8000);
    fields.list = Array.from({ length: 256 }, () => 'y'.repeat(8000));
    store.add([ev({ id: 'huge', fields }), { ...ev({ id: 'big-output' }), output: 'z'.repeat(16000) }]);
    const huge = store.get('huge') as EventWire;
    EventWire.parse(huge);
    assert.ok(JSON.stringify(huge).length < 4096, `stored ${JSON.stringify(huge).length} chars`);
    assert.ok((store.get('big-output') as EventWire).output.length <= 512);
    assert.equal(store.stats().truncated, 2);
    assert.ok(store.stats().bytes <= 2 * 4096 + 1024);
  });

  it('stays under its byte budget whatever the input, and the heap agrees (memory bound)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const maxBytes = 4 * 1024 * 1024;
    gc();
    const before = process.memoryUsage().heapUsed;
    const store = new EventStore({ maxBytes, maxEventBytes: 16 * 1024 });
    const big = 'A'.repeat(8000);
    for (let i = 0; i < 6000; i++) {
      // Distinct strings (as from JSON.parse), each event ~ 70 KB before compaction.
      const fields: EventWire['fields'] = {};
      for (let f = 0; f < 8; f++) fields[`field.${f}`] = `${i}:${f}:${big}`;
      store.add([
        { ...ev({ id: `m${i}`, timeMs: T0 + i, pod: `p${i % 50}`, fields }), output: `${i}${big}` },
      ]);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    const s = store.stats();
    assert.ok(s.bytes <= maxBytes, `estimate ${s.bytes} ≤ ${maxBytes}`);
    assert.ok(s.evictedByBytes > 5000, JSON.stringify(s));
    assert.ok(grown < 3 * maxBytes, `heap grew ${grown} bytes for a ${maxBytes}-byte budget`);
    assert.ok(store.size > 200, `${store.size} events kept`);
  });

  it('rejects nonsensical bounds', () => {
    assert.throws(() => new EventStore({ maxEvents: 0 }), /maxEvents/);
    assert.throws(() => new EventStore({ maxEventBytes: 100 }), /maxEventBytes/);
  });
});

describe('event store: snapshot', () => {
  it('survives a restart (gzip NDJSON, mode 0600) and skips lines that do not validate', async () => {
    const dir = tempDir();
    const snapshotPath = join(dir, 'sub', 'events.ndjson.gz');
    const store = await openEventStore({ snapshotPath });
    const events = [...generateScenario({ seed: 3, minutes: 5, rate: 5 })]
      .slice(0, 300)
      .map(({ alert }) => normalizeAlert(alert));
    store.add(events);
    await store.close();
    assert.equal(statSync(snapshotPath).mode & 0o777, 0o600);
    const lines = gunzipSync(readFileSync(snapshotPath)).toString('utf8').trim().split('\n');
    assert.equal(lines.length, store.size);

    const reopened = await openEventStore({ snapshotPath });
    assert.equal(reopened.size, store.size);
    assert.deepEqual(reopened.query({ limit: 1000 }), store.query({ limit: 1000 }));
    const first = events[0];
    assert.ok(first !== undefined && reopened.get(first.id)?.rule === first.rule);

    const plain = join(dir, 'events.ndjson');
    writeFileSync(
      plain,
      `${JSON.stringify(ev({ id: 'ok' }))}\nnot json\n{"id":"x"}\n${'q'.repeat(300_000)}\n\n`,
    );
    const fromPlain = new EventStore();
    assert.deepEqual(await fromPlain.loadSnapshot(plain), { loaded: 1, skipped: 3 });
    assert.ok(fromPlain.get('ok'));
  });

  it('reports an unreadable snapshot with a code', async () => {
    const dir = tempDir();
    const bad = join(dir, 'broken.ndjson.gz');
    writeFileSync(bad, 'this is not gzip');
    await assert.rejects(
      new EventStore().loadSnapshot(bad),
      (err: Error & { code?: string }) => err.code === 'IO_ERROR',
    );
  });
});

describe('event store config', () => {
  it('has defaults and maps the snapshot under dataDir', () => {
    const config = EventStoreConfigSchema.parse({});
    assert.equal(config.maxEvents, 200_000);
    assert.equal(config.windowMs, 24 * HOUR);
    const opts = eventStoreOptions(config, (f) => `/data/${f}`);
    assert.equal(opts.snapshotPath, '/data/events.ndjson.gz');
    const off = eventStoreOptions(EventStoreConfigSchema.parse({ snapshot: { enabled: false } }), (f) => f);
    assert.equal(off.snapshotPath, undefined);
    assert.throws(() => EventStoreConfigSchema.parse({ maxEvents: -1 }));
  });
});
