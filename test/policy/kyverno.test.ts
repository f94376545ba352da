import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse, parseAllDocuments } from 'yaml';
import { CrdCatalog, DEFAULT_CRD_DIR } from '../../src/actions/schema/crds.ts';
import { objectProblems } from '../../src/actions/schema/validate.ts';
import { validateSchema } from '../../src/actions/schema/openapi.ts';
import type { JsonSchema } from '../../src/actions/schema/openapi.ts';
import { requireComponent } from '../support/components.ts';

const REPO = new URL('../../', import.meta.url).pathname;
const DIR = join(REPO, 'policies/kyverno');
const AGENTPROMPT_CRD = join(REPO, 'deploy/helm/falconer/files/crds/falconer.dev_agentprompts.yaml');

type Obj = Record<string, unknown>;
interface Rule {
  name: string;
  match: { any: Array<{ resources: { kinds: string[]; operations: string[]; selector?: Obj } }> };
  validate: { failureAction: string; message: string; pattern?: Obj; foreach?: unknown[] };
}
const load = (f: string) =>
  parse(readFileSync(join(DIR, f), 'utf8')) as Obj & { spec: { rules: Rule[] }; metadata: { name: string } };
const policies = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kyverno-test.yaml');

describe('Kyverno policies for the platform (validated against the Kyverno CRD schema)', () => {
  let crds: CrdCatalog | undefined;
  before(() => {
    if (existsSync(DEFAULT_CRD_DIR))
      crds = CrdCatalog.load(DEFAULT_CRD_DIR, ['kyverno/kyverno.io_clusterpolicies.yaml']);
  });

  it('every policy is a valid kyverno.io/v1 ClusterPolicy', (t) => {
    if (!requireComponent(t, 'shared CRDs', crds !== undefined, DEFAULT_CRD_DIR)) return;
    assert.deepEqual(policies.sort(), ['agent-pod-security.yaml', 'agentprompt-approval.yaml']);
    for (const f of policies) {
      const p = load(f);
      assert.equal(`${String(p.apiVersion)} ${String(p.kind)}`, 'kyverno.io/v1 ClusterPolicy', f);
      assert.deepEqual(objectProblems(p, crds!), [], f);
      for (const r of p.spec.rules) assert.equal(r.validate.failureAction, 'Enforce', `${f}: ${r.name}`);
    }
  });

  it('the schema check catches a broken policy', (t) => {
    if (!requireComponent(t, 'shared CRDs', crds !== undefined, DEFAULT_CRD_DIR)) return;
    const p = structuredClone(load('agentprompt-approval.yaml'));
    p.spec.rules[0]!.validate.failureAction = 'Block';
    (p.spec.rules[0]!.match.any[0]!.resources as Obj).kindz = ['Pod'];
    const problems = objectProblems(p, crds!);
    assert.ok(
      problems.some((e) => e.includes('failureAction: must be one of')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((e) => e.includes('kindz: unknown field')),
      problems.join('\n'),
    );
  });

  it('agent pods: non-root, read-only root filesystem, drop ALL, limits, for the five agents and the MCP server only', () => {
    const p = load('agent-pod-security.yaml');
    assert.deepEqual(
      p.spec.rules.map((r) => r.name),
      ['run-as-non-root', 'read-only-root-filesystem', 'drop-all-capabilities', 'resource-limits'],
    );
    for (const r of p.spec.rules) {
      const res = r.match.any[0]!.resources;
      assert.deepEqual(res.kinds, ['Pod']);
      assert.deepEqual(res.operations, ['CREATE', 'UPDATE']);
      assert.deepEqual(res.selector, {
        matchLabels: { 'app.kubernetes.io/name': 'falconer' },
        matchExpressions: [
          {
            key: 'app.kubernetes.io/component',
            operator: 'In',
            values: ['detect', 'coordinator', 'analyse', 'remediate', 'notify', 'mcp'],
          },
        ],
      });
    }
    const text = readFileSync(join(DIR, 'agent-pod-security.yaml'), 'utf8');
    for (const needle of [
      /runAsNonRoot: true/,
      /readOnlyRootFilesystem: true/,
      /allowPrivilegeEscalation: false/,
      /key: ALL/,
      /cpu: ['"]\?\*['"]/,
      /memory: ['"]\?\*['"]/,
    ]) {
      assert.match(text, needle);
    }
  });

  it('AgentPrompt changes need falconer.dev/approved-by', () => {
    const r = load('agentprompt-approval.yaml').spec.rules[0]!;
    assert.deepEqual(r.match.any[0]!.resources.kinds, ['falconer.dev/*/AgentPrompt']);
    assert.deepEqual(r.match.any[0]!.resources.operations, ['CREATE', 'UPDATE']);
    assert.deepEqual(r.validate.pattern, { metadata: { annotations: { 'falconer.dev/approved-by': '?*' } } });
  });

  it('the sample manifests are valid objects (Pods: API model; AgentPrompts: the chart CRD)', (t) => {
    const samples = readdirSync(join(DIR, 'samples'));
    assert.equal(samples.length, 4);
    for (const f of samples.filter((s) => s.startsWith('agent-pod'))) {
      const pod = parse(readFileSync(join(DIR, 'samples', f), 'utf8')) as Obj;
      assert.deepEqual(objectProblems(pod, new CrdCatalog()), [], f);
    }
    if (!requireComponent(t, 'AgentPrompt CRD', existsSync(AGENTPROMPT_CRD), AGENTPROMPT_CRD)) return;
    const crd = parseAllDocuments(readFileSync(AGENTPROMPT_CRD, 'utf8'))[0]!.toJSON() as {
      spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: JsonSchema } }> };
    };
    const schema = crd.spec.versions.find((v) => v.name === 'v1alpha1')!.schema.openAPIV3Schema;
    for (const f of samples.filter((s) => s.startsWith('agentprompt'))) {
      const prompt = parse(readFileSync(join(DIR, 'samples', f), 'utf8')) as Obj;
      const { metadata: _m, ...rest } = prompt;
      assert.deepEqual(validateSchema(rest, schema), [], f);
    }
    const good = parse(readFileSync(join(DIR, 'samples/agentprompt-good.yaml'), 'utf8')) as {
      metadata: { annotations?: Obj };
    };
    const bad = parse(readFileSync(join(DIR, 'samples/agentprompt-bad.yaml'), 'utf8')) as {
      metadata: { annotations?: Obj };
    };
    assert.ok(good.metadata.annotations?.['falconer.dev/approved-by']);
    assert.equal(bad.metadata.annotations, undefined);
  });
});
