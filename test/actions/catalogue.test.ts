import { existsSync } from 'node:fs';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ActionProposal } from '../../src/agents/contracts.ts';
import { listActions, getAction, parseParams } from '../../src/actions/registry.ts';
import { planActions, proposeActions } from '../../src/actions/propose.ts';
import { ACTION_CRD_FILES, CrdCatalog, DEFAULT_CRD_DIR } from '../../src/actions/schema/crds.ts';
import { objectProblems, validateMetadata } from '../../src/actions/schema/validate.ts';
import { isImageReference, isLabelValue, isQualifiedKey } from '../../src/actions/names.ts';
import { requireComponent } from '../support/components.ts';
import { analysis, incident } from './fixtures.ts';

const owner = { kind: 'Deployment', name: 'web', replicas: 3 };
let crds: CrdCatalog | undefined;

describe('action catalogue', () => {
  before(() => {
    if (existsSync(DEFAULT_CRD_DIR)) crds = CrdCatalog.load(DEFAULT_CRD_DIR, ACTION_CRD_FILES);
  });

  it('has the seven kinds of the contract', () => {
    assert.deepEqual(
      listActions()
        .map((a) => a.kind)
        .sort(),
      [
        'annotate-pod',
        'block-image',
        'delete-pod',
        'emit-event',
        'isolate-pod',
        'label-pod',
        'scale-owner-to-zero',
      ],
    );
    assert.deepEqual(
      listActions()
        .filter((a) => a.destructive)
        .map((a) => a.kind)
        .sort(),
      ['block-image', 'delete-pod', 'scale-owner-to-zero'],
    );
    assert.throws(() => getAction('exec-into-pod'), { code: 'ACTION_UNKNOWN' });
  });

  it('renders every object so that it validates against the real CRD schemas and the core API model', (t) => {
    if (!requireComponent(t, 'shared CRDs', crds !== undefined, DEFAULT_CRD_DIR)) return;
    const proposals = proposeActions(incident(), analysis(), { owner, nowMs: 1_700_000_000_000 });
    assert.equal(proposals.length, 7);
    const kinds = new Set<string>();
    for (const p of proposals) {
      assert.ok(ActionProposal.safeParse(p).success, p.kind);
      const ops = getAction(p.kind).render(p.target, parseParams(getAction(p.kind), p.params));
      for (const op of ops) {
        for (const obj of [op.object, op.fallback].filter((o) => o !== undefined)) {
          kinds.add(`${obj.apiVersion} ${obj.kind}`);
          assert.deepEqual(
            objectProblems(obj, crds!, op.verb === 'merge-patch'),
            [],
            `${p.kind}: ${obj.kind}`,
          );
        }
      }
    }
    for (const k of [
      'cilium.io/v2 CiliumNetworkPolicy',
      'kyverno.io/v1 ClusterPolicy',
      'networking.k8s.io/v1 NetworkPolicy',
      'v1 Event',
      'v1 Pod',
      'apps/v1 Deployment',
    ]) {
      assert.ok(kinds.has(k), k);
    }
  });

  it('the validators catch what the API server would refuse', (t) => {
    if (!requireComponent(t, 'shared CRDs', crds !== undefined, DEFAULT_CRD_DIR)) return;
    const [p] = proposeActions(incident(), analysis({ recommendedActions: ['isolate-pod'] }), { nowMs: 1 });
    const cnp = structuredClone(p!.manifests[1]!) as Record<string, Record<string, unknown>>;
    (cnp.spec as Record<string, unknown>).ingressDeny = [{ fromEntities: ['everything'] }];
    (cnp.spec as Record<string, unknown>).bogus = true;
    const problems = objectProblems(cnp, crds!);
    assert.ok(
      problems.some((e) => e.includes('fromEntities[0]: must be one of')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((e) => e.includes('spec.bogus: unknown field')),
      problems.join('\n'),
    );
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'x.y', namespace: 'shop' },
      count: 'one',
      involvedObjekt: {},
    };
    const eventProblems = objectProblems(event, crds!);
    assert.ok(eventProblems.includes('count: must be a number'));
    assert.ok(eventProblems.includes('involvedObjekt: unknown field'));
    assert.ok(eventProblems.includes("missing required field 'involvedObject'"));
  });

  it('proposes only catalogue kinds, deduplicated, with targets from the incident', () => {
    const a = analysis({
      recommendedActions: ['label-pod', 'label-pod', 'emit-event', 'scale-owner-to-zero'],
    });
    const plan = planActions(incident(), a, { nowMs: 5 });
    assert.deepEqual(
      plan.proposals.map((p) => p.kind),
      ['label-pod', 'emit-event'],
    );
    assert.deepEqual(
      plan.skipped.map((s) => s.kind),
      ['scale-owner-to-zero'],
    );
    assert.match(plan.skipped[0]!.reason, /owner is unknown/);
    for (const p of plan.proposals) {
      assert.equal(p.dryRun, true, 'dry-run is the default');
      assert.deepEqual(p.target, {
        namespace: 'shop',
        pod: 'web-7d9c-abcde',
        image: 'registry.example.com/shop/web:1.4.2',
      });
    }
    assert.deepEqual(proposeActions(incident(), analysis({ verdict: 'false_positive' })), []);
    assert.deepEqual(proposeActions(incident({}, { namespace: undefined }), analysis()), []);
    // Same incident, kind and target: same id (retries do not duplicate proposals).
    assert.equal(
      proposeActions(incident(), a, { nowMs: 1 })[0]!.id,
      proposeActions(incident(), a, { nowMs: 2 })[0]!.id,
    );
  });

  it('never turns attacker-controlled values into keys or invalid names', () => {
    const evil = incident(
      { id: 'inc/../{{ request.object }}<script>\u0000' },
      { pod: 'web-1', image: 'evil/miner:latest|*' },
    );
    const plan = planActions(evil, analysis({ explanation: 'x'.repeat(9000) + '\u0007{{bad}}' }), {
      owner,
      nowMs: 1,
    });
    assert.ok(plan.skipped.some((s) => s.kind === 'block-image' && /OCI image reference/.test(s.reason)));
    for (const p of plan.proposals) {
      for (const m of p.manifests) {
        assert.deepEqual(validateMetadata(m, true), [], p.kind);
        const meta = m.metadata as { labels?: Record<string, string>; annotations?: Record<string, string> };
        for (const k of [...Object.keys(meta.labels ?? {}), ...Object.keys(meta.annotations ?? {})]) {
          assert.match(k, /^(falconer\.dev|app\.kubernetes\.io|policies\.kyverno\.io)\//);
        }
      }
    }
    const badPod = planActions(
      incident({}, { pod: 'Web_Pod;rm -rf' }),
      analysis({ recommendedActions: ['delete-pod'] }),
    );
    assert.equal(badPod.proposals.length, 0);
    assert.match(badPod.skipped[0]!.reason, /ACTION_INVALID_TARGET/);
  });

  it('image references: plain OCI references only', () => {
    for (const ok of ['nginx', 'nginx:1.25', 'ghcr.io/a/b:v1', 'localhost:5000/x/y@sha256:' + 'a'.repeat(64)])
      assert.ok(isImageReference(ok), ok);
    for (const bad of ['*', 'nginx|redis', '!nginx', 'a{{b}}', 'UPPER/case', 'nginx:', ''])
      assert.ok(!isImageReference(bad), bad);
  });

  it('label values and names stay valid for any incident id (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), (id) => {
        const plan = planActions(
          incident({ id }),
          analysis({ recommendedActions: ['label-pod', 'isolate-pod', 'emit-event'] }),
          { nowMs: 1 },
        );
        assert.equal(plan.proposals.length, 3);
        for (const p of plan.proposals) {
          for (const m of p.manifests) {
            assert.deepEqual(validateMetadata(m, true), []);
            const labels = (m.metadata as { labels?: Record<string, string> }).labels ?? {};
            for (const [k, v] of Object.entries(labels)) assert.ok(isQualifiedKey(k) && isLabelValue(v));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
