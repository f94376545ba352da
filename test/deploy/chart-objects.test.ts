/**
 * The key objects of the rendered chart against docs/agents.md and the
 * security promises: hardened pods and probes, least-privilege RBAC, SPIFFE
 * identities, and network policies that allow exactly the A2A edges (plus
 * analyse -> mcp, the MCP tool server's one client edge).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needHelm, rendered } from './chart-fixture.ts';
import {
  AGENTS,
  authorizationEdges,
  contractEdges,
  contractMcpPorts,
  contractPorts,
  WORKLOADS,
  type WorkloadName,
} from './contract.ts';
import { find, NAMESPACE, ofKind } from './render.ts';
import type { K8sObject } from './schemas.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked as plain JSON */
type Any = any;

const ports = contractPorts();
const mcpPorts = contractMcpPorts();
/** The port a caller reaches a workload on: its A2A port, or mcp's MCP (HTTP) port. */
const servedPort = (w: WorkloadName): number => (w === 'mcp' ? mcpPorts.http : ports[w].a2a);
const componentOf = (selector: Any): string | undefined =>
  selector?.matchLabels?.['app.kubernetes.io/component'];

test('docs/agents.md reads as data: ports for all five agents and mcp, edges consistent with the authorization table', () => {
  assert.deepEqual(Object.keys(ports).sort(), [...AGENTS].sort());
  assert.equal(ports.detect.ingest, 2801);
  assert.equal(ports.coordinator.hitl, 7600);
  assert.deepEqual(mcpPorts, { http: 7700, ops: 7701 });
  const edges = contractEdges();
  assert.ok(edges.size >= 10);
  assert.ok(edges.has('mcp->detect') && edges.has('mcp->coordinator') && edges.has('analyse->mcp'));
  // Every edge but analyse -> mcp (MCP, not A2A) is some skill's caller.
  const a2a = [...edges].filter((e) => !e.endsWith('->mcp'));
  assert.deepEqual([...authorizationEdges()].sort(), a2a.sort());
});

/** The hardening every Falconer pod shares (Kyverno's agent-pod-security.yaml enforces most of it too). */
function assertHardened(pod: Any, who: string): void {
  assert.equal(pod.securityContext.runAsNonRoot, true, who);
  assert.equal(pod.securityContext.runAsUser, 10001, who);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', who);
  assert.equal(pod.serviceAccountName, `falconer-${who}`);
  assert.equal(pod.hostNetwork ?? false, false);
  for (const c of pod.containers) {
    const sc = c.securityContext;
    assert.equal(sc.runAsNonRoot, true, `${who}/${c.name}`);
    assert.equal(sc.readOnlyRootFilesystem, true, `${who}/${c.name}`);
    assert.equal(sc.allowPrivilegeEscalation, false, `${who}/${c.name}`);
    assert.equal(sc.privileged, false, `${who}/${c.name}`);
    assert.deepEqual(sc.capabilities.drop, ['ALL'], `${who}/${c.name}`);
    assert.equal(sc.capabilities.add, undefined);
    assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
    // policies/kyverno/agent-pod-security.yaml refuses containers without CPU and memory limits.
    assert.ok(c.resources.limits.cpu && c.resources.limits.memory, `${who}/${c.name} CPU and memory limits`);
  }
  const main = pod.containers[0];
  assert.deepEqual(main.livenessProbe.httpGet, { path: '/healthz', port: 'ops' });
  assert.deepEqual(main.readinessProbe.httpGet, { path: '/readyz', port: 'ops' });
  assert.deepEqual(main.startupProbe.httpGet, { path: '/healthz', port: 'ops' });
  assert.ok(
    main.resources.requests.memory && main.resources.limits.memory,
    `${who} memory request and limit`,
  );
  const mounts = Object.fromEntries(main.volumeMounts.map((m: Any) => [m.mountPath, m]));
  assert.equal(mounts['/var/run/falconer/tls'].readOnly, true);
  assert.ok(mounts['/var/lib/falconer'] && mounts['/tmp'], 'writable state and tmp volumes');
  const tls = pod.volumes.find((v: Any) => v.name === 'tls').projected.sources[0].secret;
  assert.equal(tls.name, `falconer-${who}-tls`);
  assert.deepEqual(
    tls.items.map((i: Any) => i.path),
    ['tls.crt', 'tls.key', 'ca.crt'],
  );
}

test('each agent Deployment: non-root, read-only, no capabilities, RuntimeDefault seccomp, probes on the ops port', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  for (const agent of AGENTS) {
    const d = find(objects, 'Deployment', `falconer-${agent}`) as Any;
    const pod = d.spec.template.spec;
    assertHardened(pod, agent);
    assert.equal(pod.automountServiceAccountToken, agent === 'analyse' || agent === 'remediate', agent);
    const main = pod.containers[0];
    assert.equal(main.name, agent);
    assert.deepEqual(main.args, ['agent', agent, '--config', '/etc/falconer/config.yaml']);
    const containerPorts = Object.fromEntries(main.ports.map((p: Any) => [p.name, p.containerPort]));
    assert.equal(containerPorts.a2a, ports[agent].a2a, `${agent} A2A port`);
    assert.equal(containerPorts.ops, ports[agent].ops, `${agent} ops port`);
    assert.equal(containerPorts.ingest, ports[agent].ingest);
    assert.equal(containerPorts.hitl, ports[agent].hitl);
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

test('the mcp Deployment runs `falconer mcp` hardened like the agents, with its identity and the token file', (t) => {
  if (!needHelm(t)) return;
  const pod = (find(rendered().objects, 'Deployment', 'falconer-mcp') as Any).spec.template.spec;
  assertHardened(pod, 'mcp');
  assert.equal(pod.automountServiceAccountToken, true, 'workload.context reads the Kubernetes API');
  const main = pod.containers[0];
  assert.equal(main.name, 'mcp');
  assert.deepEqual(main.args, ['mcp', '--config', '/etc/falconer/config.yaml']);
  assert.deepEqual(Object.fromEntries(main.ports.map((p: Any) => [p.name, p.containerPort])), {
    http: mcpPorts.http,
    ops: mcpPorts.ops,
  });
  const env = Object.fromEntries(main.env.map((e: Any) => [e.name, e.value]));
  assert.equal(env.FALCONER_MCP_HOST, '0.0.0.0');
  assert.equal(env.FALCONER_AGENTS_TLS_CERT_FILE, '/var/run/falconer/tls/tls.crt');
  assert.equal(env.FALCONER_MCP_TOKEN_FILE, '/var/run/falconer/mcp-token/token');
  const tokenMount = main.volumeMounts.find((m: Any) => m.name === 'mcp-token');
  assert.deepEqual(tokenMount, {
    name: 'mcp-token',
    mountPath: '/var/run/falconer/mcp-token',
    readOnly: true,
  });
  const token = pod.volumes.find((v: Any) => v.name === 'mcp-token').secret;
  assert.equal(token.secretName, 'falconer-mcp-token');
  assert.deepEqual(token.items, [{ key: 'token', path: 'token' }]);
});

test('Services expose the ports of docs/agents.md', (t) => {
  if (!needHelm(t)) return;
  const mcp = find(rendered().objects, 'Service', 'falconer-mcp') as Any;
  assert.deepEqual(Object.fromEntries(mcp.spec.ports.map((p: Any) => [p.name, p.port])), mcpPorts);
  assert.equal(mcp.spec.type, 'ClusterIP');
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

/** What mcp's workload.context reads: pods and their controllers, get and list only. */
const MCP_READS: [string, string][] = [
  ['', 'pods'],
  ['apps', 'replicasets'],
  ['apps', 'deployments'],
  ['apps', 'statefulsets'],
  ['apps', 'daemonsets'],
  ['batch', 'jobs'],
  ['batch', 'cronjobs'],
];

test("RBAC: only remediate writes (and analyse its prompts' status); analyse and mcp read; detect, coordinator and notify have no access", (t) => {
  if (!needHelm(t)) return;
  const namespacedMode = {
    agents: { remediate: { rbac: { namespaces: ['shop'] } } },
    mcp: { rbac: { namespaces: ['shop', 'payments'] } },
  };
  for (const values of [{}, namespacedMode]) {
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
    assert.deepEqual([...g.keys()].sort(), ['falconer-analyse', 'falconer-mcp', 'falconer-remediate']);
    const m = g.get('falconer-mcp')!;
    for (const rule of m) assert.deepEqual([...rule.verbs].sort(), ['get', 'list'], `mcp: ${rule.resources}`);
    // A Set: in namespaced mode the same rules come once per namespace.
    const granted = new Set<string>(
      m.flatMap((r: Any) =>
        r.apiGroups.flatMap((grp: string) => r.resources.map((res: string) => `${grp}/${res}`)),
      ),
    );
    assert.deepEqual(
      [...granted].sort(),
      MCP_READS.map(([grp, res]) => `${grp}/${res}`).sort(),
      'mcp reads exactly the workload kinds of workload.context',
    );
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
  const namespaced = rendered(namespacedMode).objects;
  const role = find(namespaced, 'Role', `falconer-${NAMESPACE}-remediate`);
  assert.equal(role.metadata.namespace, 'shop', 'namespaced mode grants only in the listed namespaces');
  const mcpRoles = ofKind(namespaced, 'Role').filter(
    (r) => r.metadata.name === `falconer-${NAMESPACE}-mcp-read`,
  );
  assert.deepEqual(mcpRoles.map((r) => r.metadata.namespace).sort(), ['payments', 'shop']);
  assert.ok(
    !ofKind(namespaced, 'ClusterRole').some((r) => r.metadata.name.includes('mcp')),
    'no cluster-wide mcp read in namespaced mode',
  );
});

test('Certificates: one per agent and mcp with its SPIFFE URI SAN, rotated before expiry, from the CA issuer', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  for (const agent of WORKLOADS) {
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
  const m = find(external, 'Certificate', 'falconer-mcp') as Any;
  assert.deepEqual(m.spec.uris, [`spiffe://corp.example/ns/${NAMESPACE}/sa/falconer-mcp`]);
  assert.ok(
    !ofKind(rendered({ mcp: { enabled: false } }).objects, 'Certificate').some(
      (x) => x.metadata.name === 'falconer-mcp',
    ),
    'no identity for a disabled mcp',
  );
});

/**
 * Edges a set of CiliumNetworkPolicies allows between Falconer workloads, from
 * the egress side and from the ingress side; each only on the callee's served
 * port (A2A, or MCP for mcp).
 */
function policyEdges(objects: readonly K8sObject[]): { egress: Set<string>; ingress: Set<string> } {
  const egress = new Set<string>();
  const ingress = new Set<string>();
  const a2aPorts = (rule: Any) => rule.toPorts.flatMap((tp: Any) => tp.ports.map((p: Any) => Number(p.port)));
  for (const p of ofKind(objects, 'CiliumNetworkPolicy') as Any[]) {
    const self = componentOf(p.spec.endpointSelector) as WorkloadName;
    for (const rule of p.spec.egress ?? []) {
      for (const sel of rule.toEndpoints ?? []) {
        const peer = componentOf(sel) as WorkloadName | undefined;
        if (peer === undefined) continue;
        assert.deepEqual(
          a2aPorts(rule),
          [servedPort(peer)],
          `${self}->${peer} only on ${peer}'s served port`,
        );
        egress.add(`${self}->${peer}`);
      }
    }
    for (const rule of p.spec.ingress ?? []) {
      for (const sel of rule.fromEndpoints ?? []) {
        const peer = componentOf(sel) as WorkloadName | undefined;
        if (peer === undefined) continue;
        assert.deepEqual(
          a2aPorts(rule),
          [servedPort(self)],
          `${peer}->${self} only on ${self}'s served port`,
        );
        ingress.add(`${peer}->${self}`);
      }
    }
  }
  return { egress, ingress };
}

test('CiliumNetworkPolicies allow exactly the edges of docs/agents.md (A2A, and analyse -> mcp), both ways', (t) => {
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
  const noMcp = policyEdges(rendered({ mcp: { enabled: false } }).objects);
  const withoutMcp = expected.filter((e) => !e.includes('mcp'));
  assert.deepEqual([...noMcp.egress].sort(), withoutMcp);
  assert.deepEqual([...noMcp.ingress].sort(), withoutMcp);
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
  assert.deepEqual(entities('mcp'), ['kube-apiserver'], 'mcp reads workload context');
  assert.deepEqual([...fqdns('mcp'), ...cidrs('mcp')], [], 'mcp has no external egress');
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
