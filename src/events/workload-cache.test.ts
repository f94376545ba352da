import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkloadCache, workloadOf } from './workload.ts';

const base = {
  'k8s.ns.name': 'shop',
  'k8s.pod.name': 'web-7d4b9c8f6d-x2k9p',
  'container.id': 'abc123',
  'container.name': 'web',
  'container.image.repository': 'ghcr.io/acme/web',
  'container.image.tag': '1.2',
};

test('a workload cache returns the very Workload object workloadOf builds, and only for equal inputs', () => {
  const workloadCache = new WorkloadCache();
  const opts = { cluster: 'c1', workloadCache };
  const first = workloadOf({ ...base }, 'node-a', 'syscall', opts);
  assert.deepEqual(first, workloadOf({ ...base }, 'node-a', 'syscall', { cluster: 'c1' }));
  assert.equal(workloadOf({ ...base }, 'node-a', 'syscall', opts), first);
  assert.ok(Object.isFrozen(first));
  const variants: [Record<string, string | null>, string][] = [
    [{ 'k8s.ns.name': 'other' }, 'node-a'],
    [{ 'container.name': 'sidecar' }, 'node-a'],
    [{ 'container.id': 'def456' }, 'node-a'],
    [{ 'container.image.tag': '1.3' }, 'node-a'],
    [{ 'container.image.tag': null }, 'node-a'],
    [{ 'container.image.repository': null, 'container.image': 'ghcr.io/acme/web:1.2' }, 'node-a'],
    [{ 'k8s.cluster.name': 'c2' }, 'node-a'],
    [{}, 'node-b'],
  ];
  for (const [change, host] of variants) {
    const fields = { ...base, ...change };
    const cached = workloadOf(fields, host, 'syscall', opts);
    assert.deepEqual(cached, workloadOf(fields, host, 'syscall', { cluster: 'c1' }), JSON.stringify(change));
    assert.notEqual(cached, first);
  }
});

test('container and host workloads are cached too; overlong ones are not', () => {
  const workloadCache = new WorkloadCache();
  const ctr = { 'container.id': 'abc123', 'container.name': 'job', 'container.image': 'busybox' };
  const a = workloadOf(ctr, 'node-a', 'syscall', { workloadCache });
  assert.equal(workloadOf({ ...ctr }, 'node-a', 'syscall', { workloadCache }), a);
  assert.equal(a.key, 'container:node-a/abc123');
  const h = workloadOf({}, 'node-a', 'syscall', { workloadCache });
  assert.equal(workloadOf({}, 'node-a', 'syscall', { workloadCache }), h);
  const long = { 'k8s.ns.name': 'n', 'k8s.pod.name': 'p'.repeat(600) };
  const l = workloadOf(long, 'node-a', 'syscall', { workloadCache });
  assert.notEqual(workloadOf({ ...long }, 'node-a', 'syscall', { workloadCache }), l);
  assert.deepEqual(workloadOf({ ...long }, 'node-a', 'syscall', { workloadCache }), l);
});
