import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PodKeyCache, workloadOf } from '../../src/events/workload.ts';

const fields = (ns: string, pod: string) => ({
  'k8s.ns.name': ns,
  'k8s.pod.name': pod,
  'container.id': 'abc',
});

test('a pod key cache returns the same key content as without it, reusing the string', () => {
  const keyCache = new PodKeyCache();
  const plain = workloadOf(fields('shop', 'web-1'), 'node-a', 'syscall', { cluster: 'c1' });
  const first = workloadOf(fields('shop', 'web-1'), 'node-a', 'syscall', { cluster: 'c1', keyCache });
  const second = workloadOf(fields('shop', 'web-1'), 'node-b', 'syscall', { cluster: 'c1', keyCache });
  assert.equal(first.key, plain.key);
  assert.deepEqual(second, { ...plain, host: 'node-b' });
  assert.equal(keyCache.key('c1', 'shop', 'web-1'), first.key);
});

test('a cached pod name in another namespace or cluster, or with odd characters, gets its own key', () => {
  const keyCache = new PodKeyCache();
  assert.equal(keyCache.key('c1', 'shop', 'web-1'), 'pod:c1/shop/web-1');
  assert.equal(keyCache.key('c1', 'other', 'web-1'), 'pod:c1/other/web-1');
  assert.equal(keyCache.key('c2', 'other', 'web-1'), 'pod:c2/other/web-1');
  assert.equal(keyCache.key('c2', 'a/b', 'x%y'), 'pod:c2/a%2Fb/x%25y');
  for (let i = 0; i < 10_000; i++) assert.equal(keyCache.key('c', 'n', `p${i}`), `pod:c/n/p${i}`);
});
