/**
 * The offline validators themselves: they must reject what the API server
 * would reject, or the chart checks prove nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateBuiltin } from './k8s-models.ts';
import { validateObject, type K8sObject } from './schemas.ts';
import { validateStructural, type StructuralSchema } from './structural-schema.ts';

const messages = (problems: readonly { path: string; message: string }[]) =>
  problems.map((p) => `${p.path}: ${p.message}`);

test('structural schema: types, required, enums, patterns, unknown fields', () => {
  const schema: StructuralSchema = {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: '^[a-z]+$', maxLength: 5 },
      port: { 'x-kubernetes-int-or-string': true },
      mode: { type: 'string', enum: ['a', 'b'] },
      size: { type: 'integer', minimum: 1 },
      tags: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
      free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      maybe: { type: 'string', nullable: true },
      either: {
        type: 'object',
        properties: { a: { type: 'string' }, b: { type: 'string' } },
        oneOf: [{ required: ['a'] }, { required: ['b'] }],
      },
    },
  };
  const ok = {
    name: 'abc',
    port: 'http',
    mode: 'a',
    size: 2,
    tags: ['x', 'y'],
    free: { anything: [1, { deep: true }] },
    labels: { k: 'v' },
    maybe: null,
    either: { a: 'x' },
  };
  assert.deepEqual(validateStructural(schema, ok).problems, []);
  const bad = {
    port: 1.5,
    mode: 'c',
    size: 0,
    tags: ['x', 'x'],
    labels: { k: 1 },
    extra: true,
    either: { a: 'x', b: 'y' },
  };
  assert.deepEqual(messages(validateStructural(schema, bad).problems).sort(), [
    '(root): missing required field "name"',
    'either: matches 2 of oneOf (exactly 1 required)',
    'extra: unknown field',
    'labels.k: expected string, got integer',
    'mode: "c" is not one of ["a","b"]',
    'port: expected integer or string, got number',
    'size: 0 is below the minimum 1',
    'tags: items are not unique (list-type set)',
  ]);
  assert.deepEqual(messages(validateStructural(schema, { name: 'ABCDEFG' }).problems), [
    'name: longer than 5',
    'name: "ABCDEFG" does not match ^[a-z]+$',
  ]);
});

test('built-in kinds: the client-node models catch misspelt fields, wrong types and missing required fields', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { a: 'b' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { a: 'b' } },
      template: {
        metadata: { labels: { a: 'b' } },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'i',
              ports: [{ containerPort: 80, name: 'http' }],
              readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
              resources: { limits: { memory: '1Gi' } },
            },
          ],
        },
      },
    },
  };
  assert.deepEqual(validateBuiltin(deployment), []);
  const broken = structuredClone(deployment) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  broken.spec.replicas = '1';
  broken.spec.template.spec.containers[0].securityContext = { readOnlyRootFileSystem: true };
  broken.spec.template.spec.containers[0].ports[0] = { name: 'http' };
  delete broken.spec.selector;
  assert.deepEqual(messages(validateBuiltin(broken)!).sort(), [
    'spec.replicas: expected number, got string',
    'spec.template.spec.containers[0].ports[0]: missing required field "containerPort" (V1ContainerPort)',
    'spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: unknown field (not in V1SecurityContext)',
    'spec: missing required field "selector" (V1DeploymentSpec)',
  ]);
  assert.equal(validateBuiltin({ apiVersion: 'v9', kind: 'Nope' }), undefined);
});

test('custom resources: the upstream CRD schemas are used, and metadata is checked as ObjectMeta', () => {
  const cert: K8sObject = {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: { name: 'c', namespace: 'n' },
    spec: { secretName: 's', issuerRef: { name: 'ca' }, uris: ['spiffe://td/ns/n/sa/x'], duration: '24h' },
  };
  const good = validateObject(cert);
  assert.equal(good.against, 'crd:cert-manager.io/v1/Certificate');
  assert.deepEqual(good.problems, []);
  const bad = validateObject({
    ...cert,
    metadata: { name: 'c', labelz: {} },
    spec: { secretName: 's', issuerRef: { name: 'ca' }, uri: ['x'], privateKey: { algorithm: 'DSA' } },
  } as K8sObject);
  assert.deepEqual(messages(bad.problems).sort(), [
    'metadata.labelz: unknown field (not in V1ObjectMeta)',
    'spec.privateKey.algorithm: "DSA" is not one of ["RSA","ECDSA","Ed25519"]',
    'spec.uri: unknown field',
  ]);
  const cnp = validateObject({
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name: 'p' },
    spec: { endpointSelector: {}, egress: [{ toPorts: [{ ports: [{ port: '53', protocol: 'DNS' }] }] }] },
  });
  assert.deepEqual(messages(cnp.problems), [
    'spec.egress[0].toPorts[0].ports[0].protocol: "DNS" is not one of ["TCP","UDP","SCTP","VRRP","IGMP","ANY"]',
  ]);
  const clusterScoped = validateObject({
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'p', namespace: 'n' },
    spec: { rules: [] },
  });
  assert.ok(messages(clusterScoped.problems).includes('metadata.namespace: ClusterPolicy is cluster-scoped'));
  assert.equal(
    validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } }).against,
    'none',
  );
});
