import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNormalizer } from '../events/normalize.ts';
import { EventWire } from './contracts.ts';
import { toEventWire } from './event-wire.ts';

test('an event with oversized attacker-written fields still fits the wire contract', () => {
  const normalize = createNormalizer({ cluster: 'c1' });
  const huge = 'A'.repeat(60_000);
  const event = normalize({
    hostname: 'node-1',
    output: huge,
    priority: 'Warning',
    rule: 'Terminal shell in container',
    source: 'syscall',
    tags: ['T1059', 'mitre_execution'],
    time: '2026-11-26T03:00:00.123456789Z',
    output_fields: {
      'proc.cmdline': huge,
      'k8s.ns.name': 'shop',
      'k8s.pod.name': 'web-1',
      'container.id': 'abc123',
      'fd.sport': 443,
      'proc.aname': [huge, 'bash', null],
    },
  });
  const wire = toEventWire(event);
  const parsed = EventWire.safeParse(wire);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 3)));
  assert.equal(wire.id, event.id);
  assert.match(String(wire.fields['proc.cmdline']), /…\[truncated\]$/);
  assert.equal(wire.fields['fd.sport'], 443);
  assert.equal(wire.workload.pod, 'web-1');
});
