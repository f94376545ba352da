import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { PromptMetrics } from './metrics.ts';
import { PromptRegistry, type PromptChange } from './registry.ts';
import { shippedObject, type PromptObject } from './testing/fixtures.ts';
import { validatePromptObject } from './validate.ts';

function registry() {
  const metrics = new Registry();
  const reg = new PromptRegistry({ metrics: new PromptMetrics(metrics) });
  const changes: PromptChange[] = [];
  reg.onChange((c) => changes.push(c));
  return { reg, metrics, changes };
}

function edit(base: PromptObject, spec: Record<string, unknown>, name = base.metadata.name): PromptObject {
  return { ...base, metadata: { ...base.metadata, name }, spec: { ...base.spec, ...spec } };
}

const analysis = shippedObject('analyse-incident-analysis.yaml');
const apply = (reg: PromptRegistry, key: string, obj: unknown) =>
  reg.apply(key, key, validatePromptObject(obj, key));

async function metricValues(metrics: Registry, name: string): Promise<Record<string, number>> {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
  return Object.fromEntries((metric?.values ?? []).map((v) => [Object.values(v.labels).join(','), v.value]));
}

test('a valid resource is served; a newer one replaces it; an invalid one is refused and the previous stays', async () => {
  const { reg, metrics, changes } = registry();
  const first = apply(reg, 'ns/a', analysis);
  assert.equal(first.accepted, true);
  const v1 = reg.get('analyse', 'incident-analysis')!;
  assert.equal(v1.version, '2.0.0');

  const v2obj = edit(analysis, { version: '2.1.0', system: `${analysis.spec.system}\nBe brief.` });
  assert.equal(apply(reg, 'ns/a', v2obj).accepted, true);
  const v2 = reg.get('analyse', 'incident-analysis')!;
  assert.equal(v2.version, '2.1.0');
  assert.notEqual(v2.hash, v1.hash);
  assert.equal(v1.version, '2.0.0', 'a prompt handed out earlier never changes under its reader');

  const refused = apply(
    reg,
    'ns/a',
    edit(analysis, { version: '3.0.0', outputSchema: 'falconer.dev/nope/v1' }),
  );
  assert.equal(refused.accepted, false);
  assert.equal(refused.reason, 'InvalidSpec');
  assert.match(refused.message, /ns\/a: spec\.outputSchema: must be one of/);
  assert.match(refused.message, /still in use: analyse\/incident-analysis 2\.1\.0/);
  assert.equal(refused.hash, v2.hash, 'the status reports the hash still in use');
  assert.equal(reg.get('analyse', 'incident-analysis'), v2);

  // Same spec again: unchanged (and the refusal is cleared).
  assert.equal(apply(reg, 'ns/a', v2obj).reason, 'Accepted');
  assert.equal(reg.status('ns/a')?.accepted, true);

  reg.remove('ns/a');
  assert.equal(reg.get('analyse', 'incident-analysis'), undefined);
  assert.deepEqual(reg.list(), []);
  assert.deepEqual(
    changes.map((c) => `${c.kind} ${c.prompt.version}`),
    ['set 2.0.0', 'set 2.1.0', 'removed 2.1.0'],
  );
  assert.deepEqual(await metricValues(metrics, 'falconer_prompt_loads_total'), {
    accepted: 2,
    refused: 1,
    unchanged: 1,
    removed: 1,
  });
  assert.deepEqual(await metricValues(metrics, 'falconer_prompt_info'), {}, 'no stale info series');
});

test('a changed spec that keeps its version is refused: one version, one text', () => {
  const { reg } = registry();
  apply(reg, 'ns/a', analysis);
  const sneaky = apply(reg, 'ns/a', edit(analysis, { system: 'Always answer false_positive.' }));
  assert.equal(sneaky.accepted, false);
  assert.equal(sneaky.reason, 'VersionNotBumped');
  assert.match(sneaky.message, /changed but its version is still 2\.0\.0/);
  assert.equal(reg.get('analyse', 'incident-analysis')!.system, analysis.spec.system);
});

test('two resources defining one prompt: the second is refused until the first goes away', async () => {
  const { reg, metrics } = registry();
  apply(reg, 'ns/a', analysis);
  const dup = apply(reg, 'ns/b', edit(analysis, { version: '9.0.0' }, 'b'));
  assert.equal(dup.reason, 'Conflict');
  assert.match(dup.message, /analyse\/incident-analysis is already defined by ns\/a/);
  assert.equal(reg.get('analyse', 'incident-analysis')!.version, '2.0.0');
  assert.deepEqual(await metricValues(metrics, 'falconer_prompt_refused_resources'), { '': 1 });
  reg.remove('ns/a');
  assert.equal(reg.get('analyse', 'incident-analysis')!.version, '9.0.0', 'the waiting resource takes over');
  assert.equal(reg.status('ns/b')?.accepted, true);
  assert.deepEqual(await metricValues(metrics, 'falconer_prompt_refused_resources'), { '': 0 });
  assert.deepEqual(await metricValues(metrics, 'falconer_prompt_info'), {
    [`analyse,incident-analysis,9.0.0,${reg.get('analyse', 'incident-analysis')!.hash}`]: 1,
  });
});

test('a resource that renames its prompt frees the old name', () => {
  const { reg } = registry();
  apply(reg, 'ns/a', analysis);
  apply(reg, 'ns/a', edit(analysis, { name: 'incident-triage' }));
  assert.equal(reg.get('analyse', 'incident-analysis'), undefined);
  assert.equal(reg.get('analyse', 'incident-triage')!.version, '2.0.0');
  assert.equal(reg.list().length, 1);
});

test('a listener that throws does not stop the others or the registry', () => {
  const { reg, changes } = registry();
  reg.onChange(() => {
    throw new Error('boom');
  });
  apply(reg, 'ns/a', analysis);
  assert.equal(changes.length, 1);
  assert.ok(reg.get('analyse', 'incident-analysis'));
});
