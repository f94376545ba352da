import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import type { ActionKind, ActionProposal } from '../../src/agents/contracts.ts';
import { executeAction, rollbackAction } from '../../src/actions/execute.ts';
import { proposeActions } from '../../src/actions/propose.ts';
import { ACTION_CRD_FILES, CrdCatalog, DEFAULT_CRD_DIR } from '../../src/actions/schema/crds.ts';
import { startFakeKubeApi } from '../support/fake-kube-api.ts';
import type { FakeKubeApi } from '../support/fake-kube-api.ts';
import { allow, analysis, incident, pod } from './fixtures.ts';

const owner = { kind: 'Deployment', name: 'web', replicas: 3 };

function proposal(
  kind: ActionKind,
  opts: { dryRun?: boolean; approvals?: number; engine?: 'cilium' | 'kubernetes' } = {},
): ActionProposal {
  const [p] = proposeActions(incident(), analysis({ recommendedActions: [kind] }), {
    owner,
    nowMs: 1_700_000_000_000,
    dryRun: opts.dryRun ?? false,
    isolationEngine: opts.engine ?? 'cilium',
  });
  assert.ok(p, kind);
  return { ...p, decision: allow(opts.approvals ?? 0) };
}

const approvals = [
  { by: 'alice', at: 1 },
  { by: 'bob', at: 2 },
];

describe('executeAction / rollbackAction', () => {
  let api: FakeKubeApi;
  let out: string;
  let crds: CrdCatalog | undefined;

  before(() => {
    if (existsSync(DEFAULT_CRD_DIR)) crds = CrdCatalog.load(DEFAULT_CRD_DIR, ACTION_CRD_FILES);
  });
  beforeEach(async () => {
    api = await startFakeKubeApi();
    api.put(pod());
    api.put({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { replicas: 3 },
    });
    out = mkdtempSync(join(tmpdir(), 'falconer-actions-'));
  });
  afterEach(async () => {
    await api.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('without a cluster, a dry-run writes the exact manifests to a folder', async () => {
    const p = { ...proposal('isolate-pod'), dryRun: true };
    const res = await executeAction(p, { outputDir: out });
    assert.equal(res.status, 'dry-run');
    assert.ok(res.outputPath?.startsWith(out));
    const files = readdirSync(res.outputPath!).sort();
    assert.deepEqual(files, [
      '01-apply-merge-patch-pod-web-7d9c-abcde.yaml',
      `02-apply-create-ciliumnetworkpolicy-${(p.manifests[1]!.metadata as { name: string }).name}.yaml`,
      'proposal.json',
    ]);
    assert.match(
      readFileSync(join(res.outputPath!, files[1]!), 'utf8'),
      /ingressDeny:\n {4}- fromEntities:\n {8}- all/,
    );
  });

  it('with a cluster, a dry-run is a server-side dry-run: state recorded, nothing written', async () => {
    const p = { ...proposal('scale-owner-to-zero'), dryRun: true };
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, approvals, crds });
    assert.equal(res.status, 'dry-run', res.reason);
    assert.equal((res.before?.[0]?.spec as { replicas: number }).replicas, 3);
    assert.equal((res.after?.[0]?.spec as { replicas: number }).replicas, 0);
    assert.deepEqual(api.mutations(), []);
    assert.ok(api.requests.some((r) => r.method === 'PATCH' && r.dryRun));
    assert.equal((api.get('apps/v1', 'Deployment', 'shop', 'web')?.spec as { replicas: number }).replicas, 3);
  });

  it('label-pod: applies, then rollback restores the old value and removes the new label', async () => {
    const p = proposal('label-pod');
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, crds });
    assert.equal(res.status, 'applied', res.reason);
    const labels = () =>
      (api.get('v1', 'Pod', 'shop', 'web-7d9c-abcde')?.metadata as { labels: Record<string, string> }).labels;
    assert.deepEqual(labels(), {
      app: 'web',
      'falconer.dev/status': 'compromised',
      'falconer.dev/incident': 'inc-0001',
    });
    const rb = await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(rb.status, 'rolled-back', rb.reason);
    assert.deepEqual(labels(), { app: 'web', 'falconer.dev/status': 'old' });
  });

  it('isolate-pod with Cilium: quarantine label + CiliumNetworkPolicy; rollback removes both', async () => {
    const p = proposal('isolate-pod');
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, crds });
    assert.equal(res.status, 'applied', res.reason);
    const name = (p.manifests[1]!.metadata as { name: string }).name;
    assert.ok(api.get('cilium.io/v2', 'CiliumNetworkPolicy', 'shop', name));
    await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(api.get('cilium.io/v2', 'CiliumNetworkPolicy', 'shop', name), undefined);
    const labels = (
      api.get('v1', 'Pod', 'shop', 'web-7d9c-abcde')?.metadata as { labels: Record<string, string> }
    ).labels;
    assert.equal(labels['falconer.dev/quarantine'], undefined);
  });

  it('isolate-pod without Cilium falls back to a NetworkPolicy, and rolls back', async () => {
    await api.close();
    api = await startFakeKubeApi({ withoutCilium: true });
    api.put(pod());
    const p = proposal('isolate-pod');
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, crds });
    assert.equal(res.status, 'applied', res.reason);
    assert.match(res.reason ?? '', /not served: used networking\.k8s\.io\/v1 NetworkPolicy/);
    const name = (p.manifests[1]!.metadata as { name: string }).name;
    const np = api.get('networking.k8s.io/v1', 'NetworkPolicy', 'shop', name);
    assert.deepEqual((np?.spec as { policyTypes: string[] }).policyTypes, ['Ingress', 'Egress']);
    const rb = await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(rb.status, 'rolled-back', rb.reason);
    assert.equal(api.get('networking.k8s.io/v1', 'NetworkPolicy', 'shop', name), undefined);
  });

  it('scale-owner-to-zero needs two distinct approvers (four-eyes); rollback restores the replicas', async () => {
    const p = proposal('scale-owner-to-zero', { approvals: 2 });
    const same = await executeAction(p, {
      outputDir: out,
      kube: api.kubeConfig,
      approvals: [
        { by: 'alice', at: 1 },
        { by: 'Alice', at: 2 },
      ],
    });
    assert.equal(same.status, 'refused');
    assert.match(same.reason ?? '', /1 of 2 distinct approvers/);
    assert.deepEqual(api.mutations(), []);
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, approvals, crds });
    assert.equal(res.status, 'applied', res.reason);
    assert.equal((api.get('apps/v1', 'Deployment', 'shop', 'web')?.spec as { replicas: number }).replicas, 0);
    const rb = await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(rb.status, 'rolled-back', rb.reason);
    assert.equal((api.get('apps/v1', 'Deployment', 'shop', 'web')?.spec as { replicas: number }).replicas, 3);
  });

  it('delete-pod: a pod no controller owns is recreated on rollback', async () => {
    const p = proposal('delete-pod', { approvals: 1 });
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, approvals });
    assert.equal(res.status, 'applied', res.reason);
    assert.equal(api.get('v1', 'Pod', 'shop', 'web-7d9c-abcde'), undefined);
    const rb = await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(rb.status, 'rolled-back', rb.reason);
    const back = api.get('v1', 'Pod', 'shop', 'web-7d9c-abcde');
    assert.deepEqual((back?.spec as { containers: unknown[] }).containers, [
      { name: 'web', image: 'registry.example.com/shop/web:1.4.2' },
    ]);
  });

  it('block-image: creates the Kyverno ClusterPolicy; rollback deletes it', async () => {
    const p = proposal('block-image', { approvals: 1 });
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, approvals, crds });
    assert.equal(res.status, 'applied', res.reason);
    const name = (p.manifests[0]!.metadata as { name: string }).name;
    assert.ok(api.get('kyverno.io/v1', 'ClusterPolicy', undefined, name));
    await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(api.get('kyverno.io/v1', 'ClusterPolicy', undefined, name), undefined);
  });

  it('emit-event creates a core/v1 Event on the pod', async () => {
    const p = proposal('emit-event');
    const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, crds });
    assert.equal(res.status, 'applied', res.reason);
    const ev = api.get('v1', 'Event', 'shop', (p.manifests[0]!.metadata as { name: string }).name);
    assert.equal((ev?.involvedObject as { name: string }).name, 'web-7d9c-abcde');
  });

  it('refuses, executing nothing: no decision, denied, missing approval, tampered manifests, unknown kind, malformed, missing target', async () => {
    const base = proposal('label-pod');
    const cases: Array<[unknown, RegExp]> = [
      [{ ...base, decision: undefined }, /no policy decision/],
      [
        {
          ...base,
          decision: { ...allow(), allowed: false, reasons: ['namespace kube-system is protected'] },
        },
        /denied by policy: namespace kube-system is protected/,
      ],
      [{ ...base, decision: allow(1) }, /awaiting approval: 0 of 1/],
      [{ ...base, target: { ...base.target, namespace: 'kube-system' } }, /ACTION_MANIFEST_MISMATCH/],
      [{ ...base, kind: 'exec-into-pod' }, /malformed proposal/],
      [{ ...base, params: { ...base.params, extra: 'x' } }, /ACTION_INVALID_PARAMS/],
      [{ nonsense: true }, /malformed proposal/],
    ];
    for (const [input, reason] of cases) {
      const res = await executeAction(input, { outputDir: out, kube: api.kubeConfig });
      assert.equal(res.status, 'refused');
      assert.match(res.reason ?? '', reason);
    }
    const gone = { ...proposal('label-pod') };
    api.requests.length = 0;
    const fresh = await startFakeKubeApi();
    try {
      const res = await executeAction(gone, { outputDir: out, kube: fresh.kubeConfig });
      assert.equal(res.status, 'refused');
      assert.match(res.reason ?? '', /ACTION_TARGET_NOT_FOUND: Pod shop\/web-7d9c-abcde does not exist/);
      assert.deepEqual(fresh.mutations(), []);
      const ev = await executeAction(proposal('emit-event'), { outputDir: out, kube: fresh.kubeConfig });
      assert.match(ev.reason ?? '', /ACTION_TARGET_NOT_FOUND/);
      assert.deepEqual(fresh.mutations(), []);
    } finally {
      await fresh.close();
    }
    assert.deepEqual(api.mutations(), []);
  });

  it('an unreachable cluster: dry-run falls back to manifests; a real run fails', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'down', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'down', user: 'u' }],
      currentContext: 'c',
    });
    const dry = await executeAction({ ...proposal('label-pod'), dryRun: true }, { outputDir: out, kube: kc });
    assert.equal(dry.status, 'dry-run');
    assert.match(dry.reason ?? '', /cluster unreachable/);
    assert.ok(dry.outputPath);
    const real = await executeAction(proposal('label-pod'), { outputDir: out, kube: kc });
    assert.equal(real.status, 'failed');
  });

  it('rollback of a dry-run does nothing', async () => {
    const p = { ...proposal('label-pod'), dryRun: true };
    const res = await executeAction(p, { outputDir: out });
    const rb = await rollbackAction(p, res, { outputDir: out, kube: api.kubeConfig });
    assert.equal(rb.status, 'rolled-back');
    assert.deepEqual(api.mutations(), []);
  });
});

describe('resolvePodOwner', () => {
  it('follows pod → ReplicaSet → Deployment and reads the replicas', async () => {
    const { resolvePodOwner } = await import('../../src/actions/owner.ts');
    const api = await startFakeKubeApi();
    try {
      const ctl = (kind: string, name: string) => ({
        ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: 'u', controller: true }],
      });
      api.put(pod('web-7d9c-abcde', 'shop', ctl('ReplicaSet', 'web-7d9c')));
      api.put({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'web-7d9c', namespace: 'shop', ...ctl('Deployment', 'web') },
        spec: { replicas: 4 },
      });
      api.put({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { replicas: 4 },
      });
      api.put(pod('bare', 'shop'));
      assert.deepEqual(await resolvePodOwner(api.kubeConfig, 'shop', 'web-7d9c-abcde'), {
        kind: 'Deployment',
        name: 'web',
        replicas: 4,
      });
      assert.equal(await resolvePodOwner(api.kubeConfig, 'shop', 'bare'), undefined);
      assert.equal(await resolvePodOwner(api.kubeConfig, 'shop', 'missing'), undefined);
    } finally {
      await api.close();
    }
  });
});

describe('executeAction: an object that already exists', () => {
  it('is not overwritten: refused, nothing written', async () => {
    const api = await startFakeKubeApi();
    const out = mkdtempSync(join(tmpdir(), 'falconer-actions-'));
    try {
      api.put(pod());
      const p = proposal('block-image', { approvals: 1 });
      api.put(p.manifests[0]!);
      const before = api.mutations().length;
      const res = await executeAction(p, { outputDir: out, kube: api.kubeConfig, approvals });
      assert.equal(res.status, 'refused');
      assert.match(res.reason ?? '', /already exists; not overwriting it/);
      assert.equal(api.mutations().length, before);
    } finally {
      await api.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
