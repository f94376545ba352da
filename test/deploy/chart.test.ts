/**
 * `helm lint` and `helm template` of deploy/helm/falconer with the default
 * values and with variants; every rendered object validated against its real
 * schema (upstream CRDs, Kubernetes models); values.schema.json refusing bad
 * values.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { HELM, needHelm, rendered } from './chart-fixture.ts';
import { CHART_DIR, NAMESPACE, renderChartError } from './render.ts';
import { validateObject, type K8sObject } from './schemas.ts';
import { runTool } from './tools.ts';

export const VARIANTS: Record<string, Record<string, unknown>> = {
  defaults: {},
  'kafka bus on, LLM and chat egress, tracing': {
    kafka: {
      enabled: true,
      brokers: ['kafka-0.kafka:9092'],
      cidrs: ['10.20.0.0/16'],
      endpointSelectors: [{ matchLabels: { 'app.kubernetes.io/name': 'kafka' } }],
    },
    llm: { fqdns: ['api.openai.com'], cidrs: ['192.0.2.10/32'] },
    notifications: { fqdns: ['mattermost.example.com', 'hooks.slack.com'] },
    tracing: { otlpEndpoint: 'http://otel-collector.monitoring:4318' },
    networkPolicy: {
      otlpSelectors: [
        { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'monitoring', app: 'otel-collector' } },
      ],
    },
  },
  'external ClusterIssuer and trust-manager bundle, RSA keys': {
    certManager: {
      issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' },
      trustBundle: { configMap: 'corp-trust', key: 'bundle.pem' },
      privateKeyAlgorithm: 'RSA',
      privateKeySize: 3072,
    },
  },
  'OPA sidecar, namespaced remediate RBAC, PostgreSQL coordinator': {
    agents: {
      remediate: {
        opa: { mode: 'sidecar', sidecar: { policyConfigMap: 'falconer-rego' } },
        rbac: { namespaces: ['shop', 'payments'], kyvernoClusterPolicies: false },
      },
      coordinator: { replicas: 2, database: { existingSecret: 'falconer-db' } },
    },
    image: { digest: `sha256:${'a'.repeat(64)}` },
  },
  'mcp with an existing token Secret, namespaced read RBAC and another MCP client': {
    mcp: {
      replicas: 2,
      tokenSecret: 'corp-mcp-token',
      tokenSecretKey: 'bearer',
      rbac: { namespaces: ['shop', 'payments'] },
      clientsFrom: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'soc-tools' } }],
      config: { mcp: { maxRangeMs: 86_400_000 } },
    },
  },
  'two agents only, optional integrations off': {
    agents: { analyse: { enabled: false }, remediate: { enabled: false }, notify: { enabled: false } },
    certManager: { enabled: false },
    networkPolicy: { enabled: false },
    kyverno: { enabled: false },
    metrics: {
      serviceMonitor: { enabled: false },
      prometheusRule: { enabled: false },
      grafanaDashboard: { enabled: false },
    },
    crds: { install: false },
    prompts: { install: false },
  },
};

// With policies/rego synced into the chart, the sidecar can take its policies from there.
if (
  readdirSync(join(CHART_DIR, 'files/rego'), { recursive: true }).some((f) => String(f).endsWith('.rego'))
) {
  VARIANTS["OPA sidecar with the chart's Rego"] = { agents: { remediate: { opa: { mode: 'sidecar' } } } };
}

test('helm lint --strict passes on the chart', (t) => {
  if (!needHelm(t)) return;
  const run = runTool(HELM!, ['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE]);
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

for (const [name, values] of Object.entries(VARIANTS)) {
  test(`helm template (${name}): every object passes its real schema`, (t) => {
    if (!needHelm(t)) return;
    const { objects } = rendered(values);
    assert.ok(objects.length > 0);
    const failures: string[] = [];
    let cel = 0;
    const keys = new Set<string>();
    for (const object of objects) {
      const id = `${object.kind} ${object.metadata.namespace ?? ''}/${object.metadata.name}`;
      assert.ok(!keys.has(id), `duplicate object ${id}`);
      keys.add(id);
      const result = validateObject(object);
      cel += result.celRulesSkipped;
      for (const p of result.problems) failures.push(`${id} [${result.against}] ${p.path}: ${p.message}`);
    }
    assert.deepEqual(failures, []);
    t.diagnostic(`${objects.length} objects valid; ${cel} CEL rules on the way not evaluated offline`);
  });
}

test('the default rendering has every kind the chart promises', (t) => {
  if (!needHelm(t)) return;
  const count = (kind: string) => rendered().objects.filter((o: K8sObject) => o.kind === kind).length;
  // Five agents and the MCP tool server.
  assert.equal(count('Deployment'), 6);
  assert.equal(count('ServiceAccount'), 6);
  assert.equal(count('Service'), 6);
  assert.equal(count('CiliumNetworkPolicy'), 6);
  assert.equal(count('Certificate'), 7, 'one per agent + mcp + the CA');
  assert.equal(count('Secret'), 1, "mcp's generated bearer token");
  assert.equal(count('Issuer'), 2, 'self-signed bootstrap + CA issuer');
  assert.equal(count('CustomResourceDefinition'), 1);
  assert.ok(count('AgentPrompt') >= 2);
  assert.ok(count('ClusterPolicy') >= 1);
  assert.equal(count('ServiceMonitor'), 1);
  assert.equal(count('PrometheusRule'), 1);
  assert.equal(count('PersistentVolumeClaim'), 1, "the coordinator's SQLite volume");
});

test('values.schema.json refuses bad values, and the templates refuse unsafe combinations', (t) => {
  if (!needHelm(t)) return;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ agents: { detect: { replicas: -1 } } }, /replicas/],
    [{ agents: { detect: { replicaz: 2 } } }, /replicaz/],
    [
      {
        containerSecurityContext: {
          runAsNonRoot: false,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        },
      },
      /runAsNonRoot/,
    ],
    [{ containerSecurityContext: { capabilities: { drop: ['NET_RAW'] } } }, /capabilities\/drop/],
    [{ certManager: { duration: 'a week' } }, /duration/],
    [{ logLevel: 'verbose' }, /logLevel/],
    [{ agents: { remediate: { opa: { mode: 'remote' } } } }, /mode/],
    [{ agents: { coordinator: { replicas: 2 } } }, /replicas must be 1 with SQLite/],
    [{ mcp: { tokenSecret: 'Not_A_Name' } }, /tokenSecret/],
    [{ mcp: { rbac: { verbs: ['create'] } } }, /verbs/],
    [{ mcp: { enabled: 'sometimes' } }, /enabled/],
  ];
  // The sidecar needs policies: from a ConfigMap, or from the chart's synced copy of policies/rego.
  if (!("OPA sidecar with the chart's Rego" in VARIANTS)) {
    cases.push([{ agents: { remediate: { opa: { mode: 'sidecar' } } } }, /needs Rego policies/]);
  }
  for (const [values, message] of cases) {
    assert.match(renderChartError(HELM!, values), message, JSON.stringify(values));
  }
});
