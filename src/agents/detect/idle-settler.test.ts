import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { EventWire } from '../contracts.ts';
import { EventStore } from '../../store/event-store.ts';
import { IdleSettler } from './idle-settler.ts';

function ev(i: number): EventWire {
  return {
    id: `e-${i}`,
    timeMs: 1_700_000_000_000 + i,
    time: new Date(1_700_000_000_000 + i).toISOString(),
    rule: 'Terminal shell in container',
    priority: 'Notice',
    priorityLevel: 5,
    source: 'syscall',
    hostname: 'node-1',
    tags: [],
    output: 'A shell was spawned',
    fields: { 'proc.name': 'bash' },
    workload: { key: 'pod:c/shop/web-1', kind: 'pod', host: 'node-1', namespace: 'shop', pod: 'web-1' },
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(2);
  assert.ok(cond(), 'condition not reached within 1 s');
}

describe('idle settler', () => {
  it('stores deferred events only while nothing waits to be gated, a chunk per turn', async () => {
    const store = new EventStore();
    let busy = true;
    const settler = new IdleSettler(store, () => busy, { chunkEvents: 2, busyRetryMs: 1 });
    store.addLater([0, 1, 2, 3, 4].map(ev));
    settler.kick();
    settler.kick();
    await sleep(20);
    assert.equal(store.pendingCount, 5, 'nothing is stored while gating is pending');
    busy = false;
    // Between two chunks the event loop turns: what is observed there is a partial settle.
    const seen: number[] = [];
    const watch = (): void => {
      seen.push(store.pendingCount);
      if (store.pendingCount > 0) setImmediate(watch);
    };
    setImmediate(watch);
    await until(() => store.pendingCount === 0);
    assert.ok(
      seen.some((n) => n > 0 && n < 5),
      `stored in chunks with turns between: ${seen.join(',')}`,
    );
    assert.deepEqual(
      [...store.iterate()].map((e) => e.id),
      ['e-0', 'e-1', 'e-2', 'e-3', 'e-4'],
    );
  });

  it('stops scheduling once closed; a read still sees what waited', async () => {
    const store = new EventStore();
    const settler = new IdleSettler(store, () => false);
    settler.close();
    store.addLater([ev(7)]);
    settler.kick();
    await sleep(10);
    assert.equal(store.pendingCount, 1);
    assert.equal(store.get('e-7')?.id, 'e-7');
  });
});
