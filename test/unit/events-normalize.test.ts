import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FalconerError, isFalconerError } from '../../src/errors.ts';
import { canonicalIdentity } from '../../src/events/event-id.ts';
import { eventToJSON } from '../../src/events/event.ts';
import { FalcoAlertSchema } from '../../src/events/falco-alert.ts';
import { createNormalizer, normalizeAlert } from '../../src/events/normalize.ts';
import { parsePriority, priorityLevel } from '../../src/events/priority.ts';
import { parseRfc3339 } from '../../src/events/time.ts';
import { workloadOf } from '../../src/events/workload.ts';
import { PRIORITIES } from '../../src/events/types.ts';
import { execPodAuditAlert, realAlertLines, terminalShellAlert } from '../support/falco-alerts.ts';

/** Workload keys are always present (one object shape); these are the ones a host workload leaves unknown. */
const NO_IDENTITY = {
  namespace: undefined,
  pod: undefined,
  container: undefined,
  containerId: undefined,
  image: undefined,
};

function schemaError(fn: () => unknown): FalconerError {
  try {
    fn();
  } catch (err) {
    assert.ok(isFalconerError(err, 'EVENT_SCHEMA'), `expected EVENT_SCHEMA, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an EVENT_SCHEMA error');
}

test('every real Falco alert in ../shared/data/falco/alerts parses and normalizes', () => {
  const lines = realAlertLines();
  assert.ok(lines.length >= 8, `expected the real alerts, found ${lines.length} lines`);
  const ids = new Set<string>();
  for (const { file, line, text } of lines) {
    const raw = JSON.parse(text) as Record<string, unknown>;
    assert.ok(FalcoAlertSchema.safeParse(raw).success, `${file}:${line} fails the zod schema`);
    const e = normalizeAlert(raw);
    assert.equal(e.rule, raw.rule, `${file}:${line}`);
    assert.equal(e.priority, 'Warning');
    assert.equal(e.priorityLevel, 4);
    assert.equal(e.source, 'syscall');
    assert.equal(e.hostname, 'test-falco-hostname');
    assert.deepEqual(e.tags, ['filesystem', 'process', 'testing']);
    assert.equal(e.time, raw.time);
    assert.equal(e.timeMs, Date.parse((raw.time as string).replace(/(\.\d{3})\d+Z$/, '$1Z')));
    assert.equal(e.fields['proc.cmdline'], 'cat /dev/null');
    assert.equal(typeof e.fields['evt.time.iso8601'], 'number');
    assert.deepEqual(e.workload, {
      key: 'host:test-falco-hostname',
      kind: 'host',
      host: 'test-falco-hostname',
      cluster: 'default',
      ...NO_IDENTITY,
    });
    assert.match(e.id, /^[0-9a-f]{32}$/);
    ids.add(e.id);
  }
  assert.equal(ids.size, lines.length, 'the real alerts differ in time, so their ids must differ');
});

test('syscall alert from a Kubernetes pod: pod workload with container and image', () => {
  const e = normalizeAlert(terminalShellAlert(), { cluster: 'prod-eu' });
  assert.deepEqual(e.workload, {
    key: 'pod:prod-eu/shop/web-7c5ddbdf54-x2x9k',
    kind: 'pod',
    host: 'worker-1',
    cluster: 'prod-eu',
    namespace: 'shop',
    pod: 'web-7c5ddbdf54-x2x9k',
    container: 'nginx',
    containerId: '5d1e1f0c3a2b',
    image: 'docker.io/library/nginx:1.25',
  });
  assert.equal(e.fields['proc.tty'], 34816);
  assert.equal(e.priorityLevel, 5);
});

test('k8s_audit alert (Attach/Exec Pod): the target pod is the workload, the user stays in fields', () => {
  const e = normalizeAlert(execPodAuditAlert());
  assert.equal(e.source, 'k8s_audit');
  assert.equal(e.workload.key, 'pod:default/payments/payments-api-6d9f7b7c9d-kq2lm');
  assert.equal(e.workload.kind, 'pod');
  assert.equal(e.fields['ka.user.name'], 'alice@example.com');
  assert.equal(e.timeMs, Date.UTC(2024, 4, 14, 9, 21, 44, 123));

  // Create Privileged Pod: the pod's name is in the response, the request body is a pod.
  const create = normalizeAlert(
    execPodAuditAlert({
      rule: 'Create Privileged Pod',
      output_fields: {
        'ka.resp.name': 'miner',
        'ka.target.namespace': 'default',
        'ka.req.pod.containers.image': ['xmrig/xmrig:latest'],
        'ka.user.name': 'system:serviceaccount:ci:deployer',
      },
    }),
  );
  assert.equal(create.workload.key, 'pod:default/default/miner');
  assert.deepEqual(create.fields['ka.req.pod.containers.image'], ['xmrig/xmrig:latest']);

  // A secret read is not about a pod: host workload, namespace kept.
  const secret = normalizeAlert(
    execPodAuditAlert({
      output_fields: {
        'ka.target.resource': 'secrets',
        'ka.target.name': 'db',
        'ka.target.namespace': 'payments',
      },
    }),
  );
  assert.equal(secret.workload.key, 'host:falco-k8saudit-0');
  assert.equal(secret.workload.namespace, 'payments');
  assert.equal(secret.workload.pod, undefined);
});

test('workload identity: container, host, "host" container id, cluster from fields, image forms, <NA>', () => {
  const container = workloadOf(
    { 'container.id': 'abc123', 'container.name': 'redis', 'container.image': 'redis:7' },
    'n1',
    'syscall',
  );
  assert.deepEqual(container, {
    key: 'container:n1/abc123',
    kind: 'container',
    host: 'n1',
    cluster: 'default',
    container: 'redis',
    containerId: 'abc123',
    image: 'redis:7',
    namespace: undefined,
    pod: undefined,
  });
  assert.equal(
    workloadOf({ 'container.id': 'host', 'container.name': 'host' }, 'n1', 'syscall').key,
    'host:n1',
  );
  assert.equal(workloadOf({}, 'n1', 'syscall').kind, 'host');
  assert.equal(
    workloadOf({ 'k8s.ns.name': null, 'k8s.pod.name': '<NA>', 'container.id': '' }, 'n1', 'syscall').key,
    'host:n1',
  );
  assert.equal(
    workloadOf({ 'k8s.cluster.name': 'c9', 'k8s.ns.name': 'a', 'k8s.pod.name': 'p' }, 'n1', 'syscall', {
      cluster: 'x',
    }).key,
    'pod:c9/a/p',
  );
  assert.equal(
    workloadOf({ env: 'prod-us', 'k8s.ns.name': 'a', 'k8s.pod.name': 'p' }, 'n1', 'syscall', {
      clusterFields: ['env'],
    }).key,
    'pod:prod-us/a/p',
  );
  assert.equal(
    workloadOf({ 'container.id': 'c', 'container.image.repository': 'busybox' }, 'n', 'syscall').image,
    'busybox',
  );
  // Untrusted components cannot forge another workload's key with '/'.
  const a = workloadOf({ 'k8s.ns.name': 'a/b', 'k8s.pod.name': 'c' }, 'n', 'syscall').key;
  const b = workloadOf({ 'k8s.ns.name': 'a', 'k8s.pod.name': 'b/c' }, 'n', 'syscall').key;
  assert.notEqual(a, b);
  // Falco < 0.31 writes no hostname.
  const { hostname: _omit, ...noHost } = terminalShellAlert();
  const e = normalizeAlert({ ...noHost, output_fields: {} });
  assert.equal(e.hostname, 'unknown');
  assert.equal(e.workload.key, 'host:unknown');
});

test('ids: identical alert ⇒ identical id; key order, uuid and unknown keys do not matter; any change does', () => {
  const base = terminalShellAlert();
  const id = normalizeAlert(base).id;
  assert.equal(normalizeAlert(structuredClone(base)).id, id);
  const reordered = Object.fromEntries(Object.entries(base).reverse());
  const fields = base.output_fields as Record<string, unknown>;
  reordered.output_fields = Object.fromEntries(Object.entries(fields).reverse());
  assert.equal(normalizeAlert(reordered).id, id);
  assert.equal(
    normalizeAlert({ ...base, uuid: '5c1c6e4e-4bd4-4b4a-8d6a-6b1c0d3c1a11', label: 'attack' }).id,
    id,
  );
  assert.equal(
    normalizeAlert({ ...base, priority: 'NOTICE' }).id,
    id,
    'the same priority, spelled differently',
  );

  const changes: Record<string, unknown>[] = [
    { hostname: 'worker-2' },
    { output: `${base.output as string} ` },
    { priority: 'Warning' },
    { rule: 'Terminal shell in container ' },
    { source: 'syscall2' },
    { tags: ['T1059'] },
    { tags: [...(base.tags as string[]), 'x'] },
    { time: '2024-05-14T09:21:44.123456790Z' },
    { output_fields: { ...fields, 'proc.cmdline': 'bash -i' } },
    { output_fields: { ...fields, 'proc.tty': '34816' } },
    { output_fields: { ...fields, extra: null } },
    { output_fields: { ...fields, 'user.uid': [0] } },
  ];
  const seen = new Set([id]);
  for (const change of changes) {
    const other = normalizeAlert({ ...base, ...change }).id;
    assert.ok(!seen.has(other), `changing ${JSON.stringify(change).slice(0, 80)} must change the id`);
    seen.add(other);
  }
  // Separator tricks do not collide: the encoding is injective.
  const x = canonicalIdentity({
    source: 'a\u0000b',
    rule: 'c',
    time: 't',
    hostname: 'h',
    priority: 'p',
    output: '',
    tags: [],
    fields: {},
  });
  const y = canonicalIdentity({
    source: 'a',
    rule: 'b\u0000c',
    time: 't',
    hostname: 'h',
    priority: 'p',
    output: '',
    tags: [],
    fields: {},
  });
  assert.notEqual(x, y);
});

test('the event serializes with its id and copies cleanly', () => {
  const e = normalizeAlert(terminalShellAlert());
  const json = JSON.parse(JSON.stringify(e)) as Record<string, unknown>;
  assert.equal(json.id, e.id);
  assert.equal(json.rule, e.rule);
  assert.deepEqual(eventToJSON(e), { ...json });
});

test('priorities: every Falco spelling, case-insensitive, info → Informational', () => {
  for (const [i, p] of PRIORITIES.entries()) {
    assert.equal(parsePriority(p), p);
    assert.equal(parsePriority(p.toUpperCase()), p);
    assert.equal(parsePriority(p.toLowerCase()), p);
    assert.equal(priorityLevel(p), i);
  }
  assert.equal(parsePriority('info'), 'Informational');
  assert.equal(parsePriority('INFO'), 'Informational');
  assert.equal(parsePriority('warn'), undefined);
  assert.equal(parsePriority(''), undefined);
  assert.equal(normalizeAlert(terminalShellAlert({ priority: 'info' })).priority, 'Informational');
});

test('RFC 3339 times: Falco and Go spellings, offsets, validation', () => {
  assert.equal(parseRfc3339('2016-08-04T16:17:57.881781397Z'), Date.UTC(2016, 7, 4, 16, 17, 57, 881));
  assert.equal(parseRfc3339('2016-08-04T16:17:57Z'), Date.UTC(2016, 7, 4, 16, 17, 57));
  assert.equal(parseRfc3339('2016-08-04T16:17:57.8Z'), Date.UTC(2016, 7, 4, 16, 17, 57, 800));
  assert.equal(parseRfc3339('2016-08-04T18:17:57.5+02:00'), Date.UTC(2016, 7, 4, 16, 17, 57, 500));
  assert.equal(parseRfc3339('2016-08-04T11:47:57-04:30'), Date.UTC(2016, 7, 4, 16, 17, 57));
  assert.equal(parseRfc3339('2016-08-04t16:17:57z'), Date.UTC(2016, 7, 4, 16, 17, 57));
  assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  assert.equal(parseRfc3339('0050-01-01T00:00:00Z'), new Date('0050-01-01T00:00:00Z').getTime());
  assert.equal(parseRfc3339('2016-12-31T23:59:60Z'), Date.UTC(2017, 0, 1), 'leap second');
  for (const bad of [
    '2023-02-29T00:00:00Z',
    '2016-08-04 16:17:57Z',
    '2016-08-04T16:17:57',
    '2016-08-04T16:17:57.Z',
    '2016-08-04T16:17:57.1234567891Z',
    '2016-08-04T24:00:00Z',
    '2016-13-04T16:17:57Z',
    '2016-08-04T16:17:57+0200',
    '2016-08-04T16:17:57Zjunk',
    '1470327477',
    '',
  ]) {
    assert.ok(Number.isNaN(parseRfc3339(bad)), bad);
  }
});

test('schema errors name the path and the reason, and quote nothing large', () => {
  const base = terminalShellAlert();
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...base, rule: undefined }, 'rule', /required field missing/],
    [{ ...base, priority: 'Severe' }, 'priority', /unknown priority/],
    [{ ...base, time: 1470327477 }, 'time', /expected string/],
    [{ ...base, time: '04/08/2016' }, 'time', /RFC 3339/],
    [{ ...base, tags: 'k8s' }, 'tags', /expected array/],
    [{ ...base, tags: ['ok', 7] }, 'tags[1]', /expected string/],
    [{ ...base, source: '' }, 'source', /Too small/],
    [{ ...base, output_fields: [] }, 'output_fields', /expected record/],
    [
      { ...base, output_fields: { 'proc.pid': { nested: 1 } } },
      'output_fields["proc.pid"]',
      /a string, a finite number/,
    ],
    [
      { ...base, output_fields: { 'proc.cmdline': 'x'.repeat(70_000) } },
      'output_fields["proc.cmdline"]',
      /Too big/,
    ],
  ];
  for (const [raw, path, reason] of cases) {
    const err = schemaError(() => normalizeAlert(raw));
    assert.equal(err.context.path, path, JSON.stringify(err.toJSON()));
    assert.match(String(err.context.reason), reason);
    assert.ok(err.message.length < 400, 'message stays small');
  }
  const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, i]));
  assert.match(
    String(schemaError(() => normalizeAlert({ ...base, output_fields: many })).context.reason),
    /too many output_fields/,
  );
  const longKey = 'k'.repeat(5000);
  const err = schemaError(() => normalizeAlert({ ...base, output_fields: { [longKey]: 1 } }));
  assert.ok(String(err.context.path).length < 120, 'a long key is truncated in the path');
  schemaError(() => normalizeAlert(null));
  schemaError(() => normalizeAlert('alert'));
  schemaError(() => normalizeAlert([base]));
});

test('limits are configurable per normalizer', () => {
  const strict = createNormalizer({ limits: { maxFields: 2, maxStringLength: 40 } });
  assert.equal(schemaError(() => strict(terminalShellAlert())).context.path, 'output');
  const small = {
    rule: 'r',
    priority: 'Debug',
    time: '2024-01-01T00:00:00Z',
    output_fields: { a: 'x', b: 2 },
  };
  assert.equal(strict(small).rule, 'r');
  assert.match(
    String(schemaError(() => strict({ ...small, output_fields: { a: 1, b: 2, c: 3 } })).context.reason),
    /too many output_fields: at most 2/,
  );
});
