/**
 * The plain manifests beside the chart (no helm needed): the AgentPrompt CRD
 * and the default prompts, the Falco values snippet, the Argo CD Application,
 * and the chart's copies of files that live outside it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { OUTPUT_SCHEMA_REFS } from '../../src/prompts/types.ts';
import { PROJECT_ROOT } from '../support/paths.ts';
import { validateBuiltin } from './k8s-models.ts';
import { AGENTPROMPT_CRD, validateObject, type K8sObject } from './schemas.ts';

const PROMPTS_DIR = join(PROJECT_ROOT, 'deploy/prompts');
const CHART_FILES = join(PROJECT_ROOT, 'deploy/helm/falconer/files');

function yamlFiles(dir: string, ext = '.yaml'): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .sort();
  } catch {
    return [];
  }
}

test('the AgentPrompt CRD is a valid CustomResourceDefinition (group falconer.dev, kind AgentPrompt)', () => {
  const crd = parse(readFileSync(AGENTPROMPT_CRD, 'utf8')) as K8sObject & { spec: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(validateBuiltin(crd), []);
  assert.equal(crd.metadata.name, 'agentprompts.falconer.dev');
  assert.equal(crd.spec.group, 'falconer.dev');
  assert.equal(crd.spec.names.kind, 'AgentPrompt');
  const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
  assert.deepEqual(spec.required, ['agent', 'name', 'version', 'system']);
  assert.deepEqual(spec.properties.agent.enum, ['detect', 'coordinator', 'analyse', 'remediate', 'notify']);
  assert.deepEqual(
    spec.properties.outputSchema.enum,
    [...OUTPUT_SCHEMA_REFS],
    'the loader and the CRD agree',
  );
  const status = crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties;
  assert.deepEqual(Object.keys(status).sort(), ['conditions', 'hash', 'observedGeneration']);
  assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
});

test('every default prompt in deploy/prompts is an AgentPrompt that passes the CRD schema', () => {
  const files = yamlFiles(PROMPTS_DIR);
  assert.ok(files.length >= 2, 'default prompts exist');
  const seen = new Set<string>();
  for (const file of files) {
    const prompt = parse(readFileSync(join(PROMPTS_DIR, file), 'utf8')) as K8sObject & {
      spec: {
        agent: string;
        name: string;
        system: string;
        templates?: Record<string, string>;
        variables?: string[];
      };
    };
    const result = validateObject(prompt);
    assert.equal(result.against, 'crd:falconer.dev/v1alpha1/AgentPrompt', file);
    assert.deepEqual(result.problems, [], file);
    assert.equal(`${prompt.metadata.name}.yaml`, file, 'file named after the object');
    const key = `${prompt.spec.agent}/${prompt.spec.name}`;
    assert.ok(!seen.has(key), `duplicate prompt ${key}`);
    seen.add(key);
    // The declared variables are exactly the placeholders used.
    const texts = [prompt.spec.system, ...Object.values(prompt.spec.templates ?? {})];
    const used = new Set(texts.flatMap((t) => [...t.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1])));
    assert.deepEqual([...used].sort(), [...(prompt.spec.variables ?? [])].sort(), `${file} variables`);
    // Every prompt that takes data tells the model that fenced data is untrusted.
    if (used.size > 0) assert.match(prompt.spec.system, /<untrusted-data id="[^"]*" nonce="[^"]*">/, file);
  }
  const bad = validateObject({
    apiVersion: 'falconer.dev/v1alpha1',
    kind: 'AgentPrompt',
    metadata: { name: 'x' },
    spec: {
      agent: 'planner',
      name: 'X',
      version: 'one',
      system: '',
      model: { temperature: 3 },
      outputSchema: 'falconer.dev/anything/v9',
    },
  });
  assert.deepEqual(bad.problems.map((p) => p.path).sort(), [
    'spec.agent',
    'spec.model.temperature',
    'spec.name',
    'spec.outputSchema',
    'spec.system',
    'spec.version',
  ]);
});

/** Files under dir (relative paths, recursive) that `keep` accepts. */
function filesUnder(dir: string, keep: (rel: string) => boolean, prefix = ''): string[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, prefix));
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      const rel = prefix ? `${prefix}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) return filesUnder(dir, keep, rel);
      return keep(rel) ? [rel] : [];
    })
    .sort();
}

test('the chart carries up-to-date copies of deploy/prompts and policies/ (run deploy/helm/sync-files.sh)', () => {
  const isKyvernoPolicy = (dir: string) => (rel: string) =>
    !rel.includes('/') &&
    rel.endsWith('.yaml') &&
    /^apiVersion: (kyverno\.io|policies\.kyverno\.io)\//m.test(readFileSync(join(dir, rel), 'utf8'));
  const isRego = (rel: string) =>
    (rel.endsWith('.rego') && !rel.endsWith('_test.rego')) || rel.endsWith('data.json');
  const kyverno = join(PROJECT_ROOT, 'policies/kyverno');
  const pairs: [string, string, (rel: string) => boolean, (rel: string) => boolean][] = [
    [PROMPTS_DIR, join(CHART_FILES, 'prompts'), (r) => r.endsWith('.yaml'), (r) => r.endsWith('.yaml')],
    [kyverno, join(CHART_FILES, 'kyverno'), isKyvernoPolicy(kyverno), (r) => r.endsWith('.yaml')],
    [join(PROJECT_ROOT, 'policies/rego'), join(CHART_FILES, 'rego'), isRego, (r) => !r.endsWith('.gitkeep')],
  ];
  for (const [source, copy, wantedFilter, copyFilter] of pairs) {
    const wanted = filesUnder(source, wantedFilter);
    assert.deepEqual(
      filesUnder(copy, copyFilter),
      wanted,
      `${copy} mirrors ${source}: run bash deploy/helm/sync-files.sh`,
    );
    for (const f of wanted) {
      assert.equal(
        readFileSync(join(copy, f), 'utf8'),
        readFileSync(join(source, f), 'utf8'),
        `${f} is stale in the chart: run bash deploy/helm/sync-files.sh`,
      );
    }
  }
});

test('the Falco values snippet points http_output and falcosidekick at the detect ingest', () => {
  const values = parse(readFileSync(join(PROJECT_ROOT, 'deploy/falco/values-falconer.yaml'), 'utf8')) as {
    falco: { json_output: boolean; http_output: { enabled: boolean; url: string } };
    falcosidekick: { config: { webhook: { address: string }; kafka: { topic: string } } };
  };
  const ingest = 'http://falconer-detect.falconer.svc:2801/events';
  assert.equal(values.falco.json_output, true);
  assert.equal(values.falco.http_output.enabled, true);
  assert.equal(values.falco.http_output.url, ingest);
  assert.equal(values.falcosidekick.config.webhook.address, ingest);
  const chartValues = parse(readFileSync(join(PROJECT_ROOT, 'deploy/helm/falconer/values.yaml'), 'utf8')) as {
    ingest: { port: number };
    kafka: { topic: string };
  };
  assert.equal(new URL(ingest).port, String(chartValues.ingest.port));
  assert.equal(values.falcosidekick.config.kafka.topic, chartValues.kafka.topic);
});

test('the Argo CD Application passes the Argo CD CRD schema and points at the chart', () => {
  const docs = parseAllDocuments(readFileSync(join(PROJECT_ROOT, 'deploy/argocd/application.yaml'), 'utf8'));
  for (const doc of docs) {
    const app = doc.toJS() as K8sObject & { spec: { source: { path: string } } };
    const result = validateObject(app);
    assert.equal(result.against, 'crd:argoproj.io/v1alpha1/Application');
    assert.deepEqual(result.problems, []);
    assert.equal(app.spec.source.path, 'deploy/helm/falconer');
  }
});
