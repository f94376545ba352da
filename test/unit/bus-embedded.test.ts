import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedBus } from '../../src/bus/embedded.ts';
import { createBus, busKinds } from '../../src/bus/registry.ts';
import type { BusRecord } from '../../src/bus/types.ts';

const rec = (i: number): BusRecord<number> => ({ key: `k${i % 3}`, value: i });

test('delivers every record in order to every group', async () => {
  const bus = new EmbeddedBus<number>({ maxBatch: 7 });
  const a: number[] = [];
  const b: number[] = [];
  bus.subscribe('t', 'a', (rs) => void a.push(...rs.map((r) => r.value)));
  bus.subscribe('t', 'b', async (rs) => {
    await new Promise((r) => setTimeout(r, 1));
    b.push(...rs.map((r) => r.value));
  });
  for (let i = 0; i < 100; i += 10) {
    assert.deepEqual(
      bus.publish(
        't',
        Array.from({ length: 10 }, (_, j) => rec(i + j)),
      ),
      { accepted: true },
    );
  }
  await bus.drain();
  const expected = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(a, expected);
  assert.deepEqual(b, expected);
  assert.equal(bus.stats().delivered, 200);
});

test('refuses a batch when full instead of dropping it, and accepts again after draining', async () => {
  const bus = new EmbeddedBus<number>({ capacity: 10 });
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const seen: number[] = [];
  bus.subscribe('t', 'slow', async (rs) => {
    await gate;
    seen.push(...rs.map((r) => r.value));
  });
  assert.deepEqual(
    bus.publish(
      't',
      Array.from({ length: 10 }, (_, i) => rec(i)),
    ),
    { accepted: true },
  );
  const refused = bus.publish('t', [rec(10)]);
  assert.equal(refused.accepted, false);
  assert.equal(bus.stats().refused, 1);
  release();
  await bus.drain();
  assert.deepEqual(bus.publish('t', [rec(10)]), { accepted: true });
  await bus.drain();
  assert.equal(seen.length, 11);
});

test('a failing handler gets the same batch again (at-least-once)', async () => {
  const errors: unknown[] = [];
  const bus = new EmbeddedBus<number>({ retryDelayMs: 1, onHandlerError: (e) => errors.push(e) });
  let failures = 2;
  const seen: number[] = [];
  bus.subscribe('t', 'g', (rs) => {
    if (failures-- > 0) throw new Error('transient');
    seen.push(...rs.map((r) => r.value));
  });
  bus.publish('t', [rec(1), rec(2)]);
  await bus.drain();
  assert.deepEqual(seen, [1, 2]);
  assert.equal(errors.length, 2);
  assert.equal(bus.stats().failedDeliveries, 2);
});

test('registry creates the embedded bus and names unknown kinds', async () => {
  assert.ok(busKinds().includes('embedded'));
  assert.equal((await createBus<number>('embedded')).kind, 'embedded');
  await assert.rejects(createBus('nope'), /unknown bus kind "nope"/);
});
