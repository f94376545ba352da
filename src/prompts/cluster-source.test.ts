/**
 * The cluster source against a stand-in API server speaking the real
 * list/watch protocol and the status subresource (test/support/fake-kube-watch.ts):
 * @kubernetes/client-node's informer and CustomObjectsApi do the talking.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { startFakeKubeWatch, type FakeKubeWatch } from '../../test/support/fake-kube-watch.ts';
import { isFalconerError } from '../errors.ts';
import { ClusterPromptSource, type ClusterCondition } from './cluster-source.ts';
import { openPromptSource, type OpenedPromptSource } from './open.ts';
import { PromptRegistry } from './registry.ts';
import { validatePromptObject } from './validate.ts';
import { eventually, shippedObject, type PromptObject } from './testing/fixtures.ts';

const NS = 'falconer';
const analysis = shippedObject('analyse-incident-analysis.yaml');
const rules = shippedObject('analyse-rule-authoring.yaml');
const notify = shippedObject('notify-incident-summary.yaml');

async function fake(t: TestContext): Promise<FakeKubeWatch> {
  const api = await startFakeKubeWatch({
    group: 'falconer.dev',
    version: 'v1alpha1',
    kind: 'AgentPrompt',
    plural: 'agentprompts',
  });
  t.after(() => api.close());
  return api;
}

async function open(
  t: TestContext,
  api: FakeKubeWatch,
  metrics = new Registry(),
): Promise<OpenedPromptSource> {
  const source = await openPromptSource({
    config: { kubernetes: { namespace: NS } },
    kubeConfig: api.kubeConfig,
    metrics,
  });
  t.after(() => source.close());
  return source;
}

type Status = { hash?: string; observedGeneration?: number; conditions?: ClusterCondition[] };
const statusOf = (api: FakeKubeWatch, name: string) => api.get(NS, name)?.status as Status | undefined;
const accepted = (s: Status | undefined) => s?.conditions?.find((c) => c.type === 'Accepted');

test('initial list: valid prompts are served, an invalid one is refused, and each gets its status', async (t) => {
  const api = await fake(t);
  api.create(NS, analysis);
  api.create(NS, rules);
  const broken: PromptObject = {
    ...notify,
    spec: { ...notify.spec, outputSchema: 'falconer.dev/free-form/v1' },
  };
  api.create(NS, broken);
  api.create('elsewhere', { ...notify, metadata: { name: 'other-namespace' } });
  const metrics = new Registry();
  const source = await open(t, api, metrics);

  assert.equal(source.kind, 'cluster');
  assert.deepEqual(
    source.list().map((p) => `${p.agent}/${p.name}@${p.version} ${p.origin}`),
    [
      `analyse/incident-analysis@2.0.0 ${NS}/analyse-incident-analysis`,
      `analyse/rule-authoring@2.0.0 ${NS}/analyse-rule-authoring`,
    ],
  );
  await source.refresh();
  const ok = statusOf(api, 'analyse-incident-analysis')!;
  assert.equal(ok.hash, source.get('analyse', 'incident-analysis')!.hash);
  // The same YAML has the same hash in the cluster as in a folder: LLM call records compare across both.
  const fromFolder = validatePromptObject(analysis, 'file');
  assert.equal(ok.hash, fromFolder.ok ? fromFolder.prompt.hash : 'invalid');
  assert.equal(ok.observedGeneration, 1);
  assert.deepEqual(
    { ...accepted(ok), lastTransitionTime: 'x' },
    {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: 'in use: analyse/incident-analysis 2.0.0',
      observedGeneration: 1,
      lastTransitionTime: 'x',
    },
  );
  assert.match(accepted(ok)!.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const bad = statusOf(api, 'notify-incident-summary')!;
  assert.equal(accepted(bad)?.status, 'False');
  assert.equal(accepted(bad)?.reason, 'InvalidSpec');
  assert.match(
    accepted(bad)!.message,
    /^falconer\/notify-incident-summary: spec\.outputSchema: must be one of falconer\.dev\/analysis\/v1/,
  );
  assert.equal(bad.hash, undefined, 'no spec of it is in use');
  // Status goes through the status subresource as a merge patch.
  const patch = api.requests.find((r) => r.method === 'PATCH')!;
  assert.equal(
    patch.path,
    `/apis/falconer.dev/v1alpha1/namespaces/${NS}/agentprompts/analyse-incident-analysis/status`,
  );
  assert.equal(patch.contentType, 'application/merge-patch+json');
  assert.deepEqual(Object.keys(patch.body as object), ['status']);
  // The watch started from the list's resourceVersion.
  const watch = api.requests.find((r) => r.query.watch === 'true')!;
  assert.match(watch.query.resourceVersion ?? '', /^\d+$/);

  const text = await metrics.metrics();
  assert.match(text, /falconer_prompt_loads_total\{outcome="accepted"\} 2/);
  assert.match(text, /falconer_prompt_loads_total\{outcome="refused"\} 1/);
  assert.match(
    text,
    /falconer_prompt_info\{agent="analyse",name="incident-analysis",version="2\.0\.0",hash="[0-9a-f]{64}"\} 1/,
  );
});

test('watch: ADDED, MODIFIED (new version, then invalid), DELETED; status follows; no patch loop', async (t) => {
  const api = await fake(t);
  api.create(NS, analysis);
  const source = await open(t, api);
  await source.refresh();
  const v1 = source.get('analyse', 'incident-analysis')!;

  api.create(NS, notify);
  await eventually('ADDED notify', () => source.get('notify', 'incident-summary'));

  api.update(NS, 'analyse-incident-analysis', {
    spec: { ...analysis.spec, version: '2.1.0', system: `${analysis.spec.system}\nBe concise.` },
  });
  const v2 = await eventually('MODIFIED 2.1.0', () => {
    const p = source.get('analyse', 'incident-analysis');
    return p?.version === '2.1.0' ? p : undefined;
  });
  assert.notEqual(v2.hash, v1.hash);
  await eventually(
    'status of generation 2',
    () => statusOf(api, 'analyse-incident-analysis')?.observedGeneration === 2,
  );
  assert.equal(statusOf(api, 'analyse-incident-analysis')!.hash, v2.hash);

  // An invalid change: refused, 2.1.0 stays in use, the status says why and keeps the hash in use.
  api.update(NS, 'analyse-incident-analysis', {
    spec: { ...analysis.spec, version: '2.2.0', agent: 'planner' },
  });
  const refused = await eventually('refusal in status', () => {
    const c = accepted(statusOf(api, 'analyse-incident-analysis'));
    return c?.status === 'False' ? c : undefined;
  });
  assert.equal(refused.reason, 'InvalidSpec');
  assert.equal(refused.observedGeneration, 3);
  assert.match(
    refused.message,
    /spec\.agent: must be one of detect, coordinator, analyse, remediate, notify/,
  );
  assert.match(refused.message, /still in use: analyse\/incident-analysis 2\.1\.0/);
  assert.equal(statusOf(api, 'analyse-incident-analysis')!.hash, v2.hash);
  assert.equal(source.get('analyse', 'incident-analysis'), v2);

  // The same version with a different text is refused too.
  api.update(NS, 'analyse-incident-analysis', { spec: { ...analysis.spec, version: '2.1.0' } });
  await eventually(
    'VersionNotBumped',
    () => accepted(statusOf(api, 'analyse-incident-analysis'))?.reason === 'VersionNotBumped',
  );
  assert.equal(source.get('analyse', 'incident-analysis'), v2);

  // A label-only change (no new generation) changes nothing and writes nothing.
  await source.refresh();
  const patches = api.statusPatches().length;
  api.update(NS, 'notify-incident-summary', { labels: { 'falconer.dev/agent': 'notify', team: 'soc' } });
  await new Promise((r) => setTimeout(r, 200));
  await source.refresh();
  assert.equal(
    api.statusPatches().length,
    patches,
    'status already right: no write, so no MODIFIED echo loop',
  );

  api.remove(NS, 'notify-incident-summary');
  await eventually('DELETED', () => source.get('notify', 'incident-summary') === undefined);
  assert.deepEqual(
    source.list().map((p) => p.name),
    ['incident-analysis'],
  );
});

test('a dropped watch resumes from its resourceVersion; an expired one relists and drops what was deleted meanwhile', async (t) => {
  const api = await fake(t);
  api.create(NS, analysis);
  api.create(NS, notify);
  const source = await open(t, api);
  await eventually('watching', () => api.watchers() === 1);

  api.dropWatches();
  api.create(NS, rules);
  await eventually('resumed and saw ADDED', () => source.get('analyse', 'rule-authoring'));
  const resumed = api.requests.filter((r) => r.query.watch === 'true').at(-1)!;
  assert.notEqual(resumed.query.resourceVersion, '', 'resumed from a resourceVersion, no relist');
  const lists = () => api.requests.filter((r) => r.method === 'GET' && r.query.watch !== 'true').length;
  assert.equal(lists(), 1);

  // The watch ends, events happen, and the history is compacted before the client comes back.
  await eventually('watching again', () => api.watchers() === 1);
  api.dropWatches();
  api.remove(NS, 'notify-incident-summary');
  api.compact();
  await eventually('relisted after 410', () => source.get('notify', 'incident-summary') === undefined);
  assert.equal(lists(), 2);
  assert.ok(source.get('analyse', 'rule-authoring'));
});

test('an API server that cannot be reached or refuses the list is a clear error at open', async (t) => {
  const api = await fake(t);
  const bad = new KubeConfig();
  bad.loadFromOptions({
    clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
    users: [{ name: 'falconer', token: 'wrong-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'falconer' }],
    currentContext: 'fake',
  });
  await assert.rejects(
    openPromptSource({ config: { kubernetes: { namespace: NS } }, kubeConfig: bad }),
    (err: unknown) =>
      isFalconerError(err, 'PROMPT_SOURCE_UNAVAILABLE') &&
      /^cannot list AgentPrompts in namespace falconer: HTTP 401/.test(err.message) &&
      !err.message.includes('wrong-token'),
  );
  await api.close();
  const gone = await startFakeKubeWatch({
    group: 'falconer.dev',
    version: 'v1alpha1',
    kind: 'AgentPrompt',
    plural: 'agentprompts',
  });
  const kc = gone.kubeConfig;
  await gone.close();
  await assert.rejects(
    openPromptSource({ config: { kubernetes: { namespace: NS } }, kubeConfig: kc }),
    (err: unknown) => isFalconerError(err, 'PROMPT_SOURCE_UNAVAILABLE') && /ECONNREFUSED/.test(err.message),
  );
});

test('a failing watch is retried with backoff while the loaded prompts stay; missing RBAC on status does not stop loading', async (t) => {
  const api = await fake(t);
  api.create(NS, analysis);
  api.forbidStatus(true);
  const warnings: string[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => warnings.push(String(JSON.parse(line).msg)) },
  );
  const registry = new PromptRegistry();
  const source = await ClusterPromptSource.open({
    kubeConfig: api.kubeConfig,
    namespace: NS,
    registry,
    logger,
    restartBackoffMs: { base: 20, max: 100 },
  });
  t.after(() => source.close());
  assert.ok(source.get('analyse', 'incident-analysis'), 'loaded although its status cannot be written');
  await source.settled();
  assert.deepEqual(warnings, ['cannot write AgentPrompt status: grant patch on agentprompts/status']);
  assert.equal(statusOf(api, 'analyse-incident-analysis'), undefined);

  await eventually('watching', () => api.watchers() === 1);
  api.failWatches(3, 503);
  api.dropWatches();
  api.create(NS, notify);
  await eventually('back after three failed watches', () => source.get('notify', 'incident-summary'));
  assert.equal(warnings.filter((w) => w.startsWith('AgentPrompt watch failed')).length, 3);
  assert.ok(source.get('analyse', 'incident-analysis'), 'kept through the outage');
});
