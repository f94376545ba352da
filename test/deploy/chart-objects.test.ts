/**
 * The key objects of the rendered chart against docs/agents.md and the
 * security promises: hardened pods and probes, least-privilege RBAC, SPIFFE
 * identities, and network policies that allow exactly the A2A edges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needHelm, rendered } from './chart-fixture.ts';
import { AGENTS, authorizationEdges, contractEdges, contractPorts, type AgentName } from './contract.ts';
import { find, NAMESPACE, ofKind } from './render.ts';
import type { K8sObject } from './schemas.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked as plain JSON */
type Any = any;

const ports = contractPorts();
const componentOf = (selector: Any): string | undefined =>
  selector?.matchLabels?.['app.kubernetes.io/component'];

test('docs/agents.md reads as data: ports for all five agents, edges consistent with the authorization table', () => {
  assert.deepEqual(Object.keys(ports).sort(), [...AGENTS].sort());
  assert.equal(ports.detect.ingest, 2801);
  assert.equal(ports.coordinator.hitl, 7600);
  const edges = contractEdges();
  assert.ok(edges.size >= 7);
  assert.deepEqual([...authorizationEdges()].sort(), [...edges].sort());
});

test('each agent Deployment: non-root, read-only, no capabilities, RuntimeDefault seccomp, probes on the ops port', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  for (const agent of AGENTS) {
    const d = find(objects, 'Deployment', `falconer-${agent}`) as Any;
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, agent);
    assert.equal(pod.securityContext.runAsUser, 10001, agent);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', agent);
    assert.equal(pod.serviceAccountName, `falconer-${agent}`);
    assert.equal(pod.automountServiceAccountToken, agent === 'analyse' || agent === 'remediate', agent);
    assert.equal(pod.hostNetwork ?? false, false);
    for (const c of pod.containers) {
      const sc = c.securityContext;
      assert.equal(sc.runAsNonRoot, true, `${agent}/${c.name}`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${agent}/${c.name}`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${agent}/${c.name}`);
      assert.equal(sc.privileged, false, `${agent}/${c.name}`);
      assert.deepEqual(sc.capabilities.drop, ['ALL'], `${agent}/${c.name}`);
      assert.equal(sc.capabilities.add, undefined);
      assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
      // policies/kyverno/agent-pod-security.yaml refuses containers without CPU and memory limits.
      assert.ok(
        c.resources.limits.cpu && c.resources.limits.memory,
        `${agent}/${c.name} CPU and memory limits`,
      );
    }
    const main = pod.containers[0];
    assert.equal(main.name, agent);
    assert.deepEqual(main.args, ['agent', agent, '--config', '/etc/falconer/config.yaml']);
    const containerPorts = Object.fromEntries(main.ports.map((p: Any) => [p.name, p.containerPort]));
    assert.equal(containerPorts.a2a, ports[agent].a2a, `${agent} A2A port`);
    assert.equal(containerPorts.ops, ports[agent].ops, `${agent} ops port`);
    assert.equal(containerPorts.ingest, ports[agent].ingest);
    assert.equal(containerPorts.hitl, ports[agent].hitl);
    assert.deepEqual(main.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
    assert.deepEqual(main.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
    assert.deepEqual(main.startupProbe.httpGet, { path: '/healthz', port: 'ops' });
    assert.ok(
      main.resources.requests.memory && main.resources.limits.memory,
      `${agent} memory request and limit`,
    );
    const mounts = Object.fromEntries(main.volumeMounts.map((m: Any) => [m.mountPath, m]));
    assert.equal(mounts['/var/run/falconer/tls'].readOnly, true);
    assert.ok(mounts['/var/lib/falconer'] && mounts['/tmp'], 'writable state and tmp volumes');
    const tls = pod.volumes.find((v: Any) => v.name === 'tls').projected.sources[0].secret;
    assert.equal(tls.name, `falconer-${agent}-tls`);
    assert.deepEqual(
      tls.items.map((i: Any) => i.path),
      ['tls.crt', 'tls.key', 'ca.crt'],
    );
    const env = Object.fromEntries(main.env.map((e: Any) => [e.name, e.value]));
    assert.equal(env.FALCONER_DATA_DIR, '/var/lib/falconer');
    assert.equal(env.FALCONER_AGENTS_NAMESPACE, NAMESPACE);
    for (const peer of AGENTS) {
      assert.equal(
        env[`FALCONER_AGENTS_${peer.toUpperCase()}_URL`],
        `https://falconer-${peer}.${NAMESPACE}.svc:${ports[peer].a2a}`,
      );
    }
  }
  const coordinator = find(objects, 'Deployment', 'falconer-coordinator') as Any;
  assert.equal(coordinator.spec.strategy.type, 'Recreate', 'one SQLite writer at a time');
  const data = coordinator.spec.template.spec.volumes.find((v: Any) => v.name === 'data');
  assert.equal(data.persistentVolumeClaim.claimName, 'falconer-coordinator-data');
});

test('Services expose the ports of docs/agents.md', (t) => {
  if (!needHelm(t)) return;
  for (const agent of AGENTS) {
    const s = find(rendered().objects, 'Service', `falconer-${agent}`) as Any;
    const byName = Object.fromEntries(s.spec.ports.map((p: Any) => [p.name, p.port]));
    assert.deepEqual(byName, {
      a2a: ports[agent].a2a,
      ops: ports[agent].ops,
      ...(ports[agent].ingest ? { ingest: ports[agent].ingest } : {}),
      ...(ports[agent].hitl ? { hitl: ports[agent].hitl } : {}),
    });
  }
});

const WRITE_VERBS = new Set([
  'create',
  'update',
  'patch',
  'delete',
  'deletecollection',
  'escalate',
  'bind',
  'impersonate',
  '*',
]);

/** Rules granted to each agent's ServiceAccount through any (Cluster)RoleBinding. */
function grants(objects: readonly K8sObject[]): Map<string, Any[]> {
  const roles = new Map<string, Any>();
  for (const r of [...ofKind(objects, 'Role'), ...ofKind(objects, 'ClusterRole')]) {
    roles.set(`${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, r);
  }
  const out = new Map<string, Any[]>();
  for (const b of [...ofKind(objects, 'RoleBinding'), ...ofKind(objects, 'ClusterRoleBinding')] as Any[]) {
    const ns = b.roleRef.kind === 'Role' ? b.metadata.namespace : '';
    const role = roles.get(`${b.roleRef.kind}/${ns}/${b.roleRef.name}`);
    assert.ok(role, `binding ${b.metadata.name} refers to a rendered role`);
    for (const s of b.subjects) {
      assert.equal(s.kind, 'ServiceAccount');
      assert.equal(s.namespace, NAMESPACE);
      out.set(s.name, [...(out.get(s.name) ?? []), ...role.rules]);
    }
  }
  return out;
}

const allows = (rules: Any[], group: string, resource: string, verb: string) =>
  rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

/** The one write outside remediate: analyse reports prompt acceptance on the status subresource only. */
const isPromptStatusPatch = (sa: string, rule: Any) =>
  sa === 'falconer-analyse' &&
  rule.apiGroups.length === 1 &&
  rule.apiGroups[0] === 'falconer.dev' &&
  rule.resources.length === 1 &&
  rule.resources[0] === 'agentprompts/status' &&
  rule.verbs.length === 1 &&
  rule.verbs[0] === 'patch';

test("RBAC: only remediate writes (and analyse its prompts' status); analyse reads; detect, coordinator and notify have no access", (t) => {
  if (!needHelm(t)) return;
  for (const values of [{}, { agents: { remediate: { rbac: { namespaces: ['shop'] } } } }]) {
    const { objects } = rendered(values);
    const g = grants(objects);
    for (const [sa, rules] of g) {
      for (const rule of rules) {
        assert.ok(
          !rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'),
          `${sa}: no wildcards`,
        );
        assert.ok(!rule.resources.includes('secrets'), `${sa}: no access to Secrets`);
        if (sa !== 'falconer-remediate' && !isPromptStatusPatch(sa, rule)) {
          assert.deepEqual(
            rule.verbs.filter((v: string) => WRITE_VERBS.has(v)),
            [],
            `${sa} may not write ${rule.resources}`,
          );
        }
      }
    }
    assert.deepEqual([...g.keys()].sort(), ['falconer-analyse', 'falconer-remediate']);
    const r = g.get('falconer-remediate')!;
    assert.ok(allows(r, '', 'pods', 'patch') && allows(r, '', 'pods', 'delete'));
    assert.ok(allows(r, 'apps', 'deployments/scale', 'patch'));
    assert.ok(allows(r, 'networking.k8s.io', 'networkpolicies', 'create'));
    assert.ok(allows(r, 'cilium.io', 'ciliumnetworkpolicies', 'create'));
    assert.ok(allows(r, 'kyverno.io', 'clusterpolicies', 'create'));
    assert.ok(allows(r, '', 'events', 'create'));
    const a = g.get('falconer-analyse')!;
    assert.ok(allows(a, '', 'pods', 'list') && allows(a, 'apps', 'replicasets', 'get'));
    assert.ok(allows(a, 'falconer.dev', 'agentprompts', 'watch'));
    assert.ok(allows(a, 'falconer.dev', 'agentprompts/status', 'patch'));
    assert.ok(!allows(a, 'falconer.dev', 'agentprompts', 'patch'), 'the spec stays read-only');
  }
  const namespaced = rendered({ agents: { remediate: { rbac: { namespaces: ['shop'] } } } }).objects;
  const role = find(namespaced, 'Role', `falconer-${NAMESPACE}-remediate`);
  assert.equal(role.metadata.namespace, 'shop', 'namespaced mode grants only in the listed namespaces');
});

test('Certificates: one per agent with its SPIFFE URI SAN, rotated before expiry, from the CA issuer', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  for (const agent of AGENTS) {
    const c = find(objects, 'Certificate', `falconer-${agent}`) as Any;
    assert.deepEqual(c.spec.uris, [`spiffe://falconer.local/ns/${NAMESPACE}/sa/falconer-${agent}`]);
    assert.ok(c.spec.dnsNames.includes(`falconer-${agent}.${NAMESPACE}.svc`));
    assert.equal(c.spec.secretName, `falconer-${agent}-tls`);
    assert.ok(c.spec.usages.includes('server auth') && c.spec.usages.includes('client auth'));
    assert.equal(c.spec.privateKey.rotationPolicy, 'Always');
    const hours = (d: string) => Number(/^(\d+)h$/.exec(d)![1]);
    assert.ok(hours(c.spec.renewBefore) < hours(c.spec.duration), 'renewed before it expires');
    assert.deepEqual(c.spec.issuerRef, { name: 'falconer-ca', kind: 'Issuer', group: 'cert-manager.io' });
    assert.ok(find(objects, 'ServiceAccount', `falconer-${agent}`), 'the SAN names a real ServiceAccount');
  }
  const ca = find(objects, 'Certificate', 'falconer-ca') as Any;
  assert.equal(ca.spec.isCA, true);
  assert.equal((find(objects, 'Issuer', 'falconer-ca') as Any).spec.ca.secretName, ca.spec.secretName);

  const external = rendered({
    certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } },
    trustDomain: 'corp.example',
  }).objects;
  assert.equal(ofKind(external, 'Issuer').length, 0, 'no bootstrap issuers with an external issuer');
  const c = find(external, 'Certificate', 'falconer-notify') as Any;
  assert.deepEqual(c.spec.issuerRef, { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  assert.deepEqual(c.spec.uris, [`spiffe://corp.example/ns/${NAMESPACE}/sa/falconer-notify`]);
});

/** A2A edges a set of CiliumNetworkPolicies allows, from the egress side and from the ingress side. */
function policyEdges(objects: readonly K8sObject[]): { egress: Set<string>; ingress: Set<string> } {
  const egress = new Set<string>();
  const ingress = new Set<string>();
  const a2aPorts = (rule: Any) => rule.toPorts.flatMap((tp: Any) => tp.ports.map((p: Any) => Number(p.port)));
  for (const p of ofKind(objects, 'CiliumNetworkPolicy') as Any[]) {
    const self = componentOf(p.spec.endpointSelector) as AgentName;
    for (const rule of p.spec.egress ?? []) {
      for (const sel of rule.toEndpoints ?? []) {
        const peer = componentOf(sel) as AgentName | undefined;
        if (peer === undefined) continue;
        assert.deepEqual(a2aPorts(rule), [ports[peer].a2a], `${self}->${peer} only on ${peer}'s A2A port`);
        egress.add(`${self}->${peer}`);
      }
    }
    for (const rule of p.spec.ingress ?? []) {
      for (const sel of rule.fromEndpoints ?? []) {
        const peer = componentOf(sel) as AgentName | undefined;
        if (peer === undefined) continue;
        assert.deepEqual(a2aPorts(rule), [ports[self].a2a], `${peer}->${self} only on ${self}'s A2A port`);
        ingress.add(`${peer}->${self}`);
      }
    }
  }
  return { egress, ingress };
}

test('CiliumNetworkPolicies allow exactly the A2A edges of docs/agents.md, both ways', (t) => {
  if (!needHelm(t)) return;
  const expected = [...contractEdges()].sort();
  const { egress, ingress } = policyEdges(rendered().objects);
  assert.deepEqual([...egress].sort(), expected);
  assert.deepEqual([...ingress].sort(), expected);
  // With agents disabled, the edges to and from them disappear.
  const partial = policyEdges(
    rendered({ agents: { analyse: { enabled: false }, notify: { enabled: false } } }).objects,
  );
  const kept = expected.filter((e) => !e.includes('analyse') && !e.includes('notify'));
  assert.deepEqual([...partial.egress].sort(), kept);
  assert.deepEqual([...partial.ingress].sort(), kept);
});

test('CiliumNetworkPolicies: external egress only where docs/agents.md puts it', (t) => {
  if (!needHelm(t)) return;
  const objects = rendered({
    kafka: { enabled: true, brokers: ['kafka:9092'], cidrs: ['10.20.0.0/16'] },
    llm: { fqdns: ['api.openai.com'] },
    notifications: { fqdns: ['hooks.slack.com'] },
  }).objects;
  const policy = (agent: string) => find(objects, 'CiliumNetworkPolicy', `falconer-${agent}`) as Any;
  const fqdns = (agent: string) =>
    policy(agent).spec.egress.flatMap((r: Any) => (r.toFQDNs ?? []).map((f: Any) => f.matchName));
  const cidrs = (agent: string) => policy(agent).spec.egress.flatMap((r: Any) => r.toCIDR ?? []);
  const entities = (agent: string) => policy(agent).spec.egress.flatMap((r: Any) => r.toEntities ?? []);
  assert.deepEqual(fqdns('analyse'), ['api.openai.com']);
  assert.deepEqual(fqdns('notify'), ['hooks.slack.com']);
  assert.deepEqual(cidrs('detect'), ['10.20.0.0/16'], 'Kafka');
  for (const agent of AGENTS) {
    assert.deepEqual(
      entities(agent),
      agent === 'remediate' || agent === 'analyse' ? ['kube-apiserver'] : [],
      agent,
    );
    if (agent !== 'analyse' && agent !== 'notify') assert.deepEqual(fqdns(agent), [], agent);
    if (agent !== 'detect') assert.deepEqual(cidrs(agent), [], agent);
    const dns = policy(agent).spec.egress[0];
    assert.equal(dns.toPorts[0].ports[0].port, '53');
  }
  assert.deepEqual(cidrs('detect').length, 1);
  const noKafka = rendered().objects;
  assert.deepEqual(
    (find(noKafka, 'CiliumNetworkPolicy', 'falconer-detect') as Any).spec.egress.flatMap(
      (r: Any) => r.toCIDR ?? [],
    ),
    [],
  );
  // The ingest admits Falco/falcosidekick only, on the ingest port.
  const ingestRule = policy('detect').spec.ingress.find(
    (r: Any) => r.toPorts[0].ports[0].port === String(ports.detect.ingest),
  );
  assert.ok(ingestRule.fromEndpoints.length > 0 && ingestRule.fromEntities === undefined);
});

test('the AgentPrompt CRD is kept on uninstall and the default prompts are installed in the release namespace', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  const crd = find(objects, 'CustomResourceDefinition', 'agentprompts.falconer.dev');
  assert.equal((crd.metadata.annotations as Any)['helm.sh/resource-policy'], 'keep');
  const prompts = ofKind(objects, 'AgentPrompt') as Any[];
  for (const p of prompts) {
    assert.equal(p.metadata.namespace, NAMESPACE);
    assert.equal(p.metadata.labels['app.kubernetes.io/part-of'], 'falconer');
    assert.match(p.spec.templates.user, /\{\{\w+\}\}/, 'placeholders survive helm rendering');
  }
});

test('Kyverno guardrails keep their Kyverno variables and protect the release namespace', (t) => {
  if (!needHelm(t)) return;
  const policy = find(
    rendered().objects,
    'ClusterPolicy',
    `falconer-${NAMESPACE}-remediate-guardrails`,
  ) as Any;
  const deny = policy.spec.rules[0];
  assert.equal(deny.validate.deny.conditions.any[0].key, '{{request.namespace}}');
  assert.ok(deny.validate.deny.conditions.any[0].value.includes(NAMESPACE));
  assert.ok(deny.validate.deny.conditions.any[0].value.includes('kube-system'));
  assert.deepEqual(deny.match.any[0].subjects, [
    { kind: 'ServiceAccount', name: 'falconer-remediate', namespace: NAMESPACE },
  ]);
});

test('the Grafana dashboard ConfigMap holds a dashboard with a query in every panel', (t) => {
  if (!needHelm(t)) return;
  const cm = find(rendered().objects, 'ConfigMap', 'falconer-grafana-dashboard') as Any;
  assert.equal(cm.metadata.labels.grafana_dashboard, '1');
  const dashboard = JSON.parse(cm.data['falconer.json']);
  assert.equal(dashboard.uid, 'falconer-overview');
  assert.ok(dashboard.panels.length >= 10);
  for (const p of dashboard.panels)
    assert.ok(p.targets.length > 0 && p.targets.every((q: Any) => q.expr), p.title);
});
