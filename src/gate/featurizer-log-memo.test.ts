/**
 * complete() remembers, for the event it completes, the logarithms it has computed (ratio and
 * Math.log(ratio)) and reuses one when another feature of the same event has the same ratio. The
 * memo holds at most one entry per sketch read of the event (MAX_KEYS, a fixed pair of arrays) and
 * starts empty for every event; an entry is a pure function of its ratio, so even a stale one could
 * not give a wrong value. This checks that a reused logarithm is always the one of its own ratio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNormalizer } from '../events/normalize.ts';
import { FEATURE_NAMES, Featurizer, type FeatureName } from './featurizer.ts';

const normalize = createNormalizer({ cluster: 'memo' });
/** Every event at the same instant: each one counts with weight 1, so counts are whole numbers. */
const TIME = '2026-11-26T10:00:00.000000000Z';

function event(proc: string, pname: string, cmdline: string) {
  return normalize({
    hostname: 'node-1',
    output: '',
    priority: 'Notice',
    rule: 'Some Rule',
    source: 'syscall',
    tags: [],
    time: TIME,
    output_fields: {
      'k8s.ns.name': 'shop',
      'k8s.pod.name': 'web-7d9f-abcde',
      'container.id': 'abc123def456',
      'container.name': 'web',
      'proc.name': proc,
      'proc.pname': pname,
      'proc.cmdline': cmdline,
      'user.name': 'root',
    },
  });
}

function feature(x: Float64Array, name: FeatureName): number {
  return x[FEATURE_NAMES.indexOf(name)]!;
}

test('rarities sharing a ratio within an event each get Math.log of their own ratio', () => {
  const f = new Featurizer();
  f.featurize(event('nginx', 'containerd-shim', 'nginx -g daemon off;'));

  // Second event: everything about the process is new to a total of one → ratio 2 everywhere.
  let x = f.featurize(event('sh', 'nginx', 'sh -c id'));
  for (const name of [
    'process_rarity',
    'lineage_rarity',
    'command_rarity',
    'owner_process_novelty',
    'owner_lineage_novelty',
    'owner_command_novelty',
  ] as const) {
    assert.equal(feature(x, name), Math.log(2), name);
  }
  assert.equal(feature(x, 'rule_rarity'), 0);
  assert.equal(feature(x, 'user_rarity'), 0);

  // The same again: seen once among two → ratio 3/2.
  x = f.featurize(event('sh', 'nginx', 'sh -c id'));
  assert.equal(feature(x, 'process_rarity'), Math.log(1.5));
  assert.equal(feature(x, 'owner_command_novelty'), Math.log(1.5));

  // Mixed ratios in one event: a new process (never seen, among three → 4) running a known
  // command (seen twice among three → 4/3); each feature must get its own ratio's logarithm.
  x = f.featurize(event('curl', 'sh', 'sh -c id'));
  assert.equal(feature(x, 'process_rarity'), Math.log(4));
  assert.equal(feature(x, 'owner_process_novelty'), Math.log(4));
  assert.equal(feature(x, 'lineage_rarity'), Math.log(4));
  assert.equal(feature(x, 'owner_lineage_novelty'), Math.log(4));
  assert.equal(feature(x, 'command_rarity'), Math.log(4 / 3));
  assert.equal(feature(x, 'owner_command_novelty'), Math.log(4 / 3));
  assert.equal(feature(x, 'rule_rarity'), 0);
});
