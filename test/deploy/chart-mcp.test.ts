/**
 * The MCP tool server in the chart (docs/mcp.md): analyse's and mcp's
 * rendered config files loaded by Falconer's real config loader under the
 * Deployments' environment, the bearer token Secret shared by both, mcp's
 * network policy and its scrape target.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import type { FalconerConfig } from '../../src/config/schema.ts';
import { resolveMcpConfig } from '../../src/mcp/config.ts';
import { needHelm, rendered } from './chart-fixture.ts';
import { contractMcpPorts, contractPorts } from './contract.ts';
import { find, NAMESPACE, ofKind } from './render.ts';
import type { K8sObject } from './schemas.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are walked as plain JSON */
type Any = any;

const ports = contractPorts();
const mcpPorts = contractMcpPorts();
const TOKEN_FILE = '/var/run/falconer/mcp-token/token';

/** The workload's main container and pod spec. */
function podOf(objects: readonly K8sObject[], name: string): { pod: Any; main: Any } {
  const pod = (find(objects, 'Deployment', `falconer-${name}`) as Any).spec.template.spec;
  return { pod, main: pod.containers[0] };
}

/** Loads a workload's rendered config.yaml with its container's literal FALCONER_* env, plus `env`. */
function loadRendered(
  objects: readonly K8sObject[],
  name: string,
  env: Record<string, string> = {},
): FalconerConfig {
  const cm = find(objects, 'ConfigMap', `falconer-${name}-config`) as Any;
  const podEnv = Object.fromEntries(
    podOf(objects, name)
      .main.env.filter((e: Any) => typeof e.value === 'string')
      .map((e: Any) => [e.name, e.value]),
  );
  const dir = mkdtempSync(join(tmpdir(), 'falconer-chart-mcp-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, cm.data['config.yaml']);
    return loadConfig({ file, env: { ...podEnv, ...env } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tokenVolume(pod: Any): Any {
  return pod.volumes.find((v: Any) => v.name === 'mcp-token')?.secret;
}

test("analyse's config points at mcp's Service with the mounted token file, and loads with the real config schema", (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  const config = loadRendered(objects, 'analyse');
  assert.deepEqual(config.analyse.mcp, {
    url: `http://falconer-mcp.${NAMESPACE}.svc:${mcpPorts.http}/mcp`,
    tokenFile: TOKEN_FILE,
  });
  const { pod, main } = podOf(objects, 'analyse');
  assert.deepEqual(
    main.volumeMounts.find((m: Any) => m.name === 'mcp-token'),
    { name: 'mcp-token', mountPath: '/var/run/falconer/mcp-token', readOnly: true },
  );
  assert.deepEqual(tokenVolume(pod), {
    secretName: 'falconer-mcp-token',
    defaultMode: 0o440,
    items: [{ key: 'token', path: 'token' }],
  });
  // The Service the URL names serves that port.
  const svc = find(objects, 'Service', 'falconer-mcp') as Any;
  assert.ok(svc.spec.ports.some((p: Any) => p.port === mcpPorts.http && p.targetPort === 'http'));
});

test("mcp's config resolves its peers at the agents' Services, its identity files and the generated token", (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  const secret = find(objects, 'Secret', 'falconer-mcp-token') as Any;
  const token = Buffer.from(secret.data.token, 'base64').toString('utf8');
  assert.match(token, /^[A-Za-z0-9]{48}$/, 'a generated 48-character token');
  const dir = mkdtempSync(join(tmpdir(), 'falconer-chart-mcp-token-'));
  try {
    // The token file stands in for the mounted Secret; everything else is the Deployment's own env.
    writeFileSync(join(dir, 'token'), token);
    const config = loadRendered(objects, 'mcp', { FALCONER_MCP_TOKEN_FILE: join(dir, 'token') });
    assert.equal(config.mcp.host, '0.0.0.0');
    assert.equal(config.mcp.port, mcpPorts.http);
    assert.equal(config.mcp.opsPort, mcpPorts.ops);
    const resolved = resolveMcpConfig(config.mcp, config);
    assert.equal(resolved.detectUrl, `https://falconer-detect.${NAMESPACE}.svc:${ports.detect.a2a}`);
    assert.equal(
      resolved.coordinatorUrl,
      `https://falconer-coordinator.${NAMESPACE}.svc:${ports.coordinator.a2a}`,
    );
    assert.deepEqual(resolved.tls, {
      certFile: '/var/run/falconer/tls/tls.crt',
      keyFile: '/var/run/falconer/tls/tls.key',
      caFile: '/var/run/falconer/tls/ca.crt',
    });
    assert.equal(resolved.namespace, NAMESPACE, 'the namespace of its SPIFFE identity');
    assert.equal(resolved.trustDomain, 'falconer.local');
    assert.equal(resolved.credentials.length, 1);
    assert.equal(resolved.credentials[0]!.token, token);
    assert.deepEqual(resolved.credentials[0]!.scope.namespaces, ['*']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const env = Object.fromEntries(podOf(objects, 'mcp').main.env.map((e: Any) => [e.name, e.value]));
  assert.equal(env.FALCONER_MCP_TOKEN_FILE, TOKEN_FILE, 'in the pod, the mounted Secret');
});

test('mcp.tokenSecret: both pods mount the given Secret and key, the chart generates none', (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered({ mcp: { tokenSecret: 'corp-mcp', tokenSecretKey: 'bearer' } });
  assert.equal(ofKind(objects, 'Secret').length, 0);
  for (const name of ['mcp', 'analyse']) {
    const volume = tokenVolume(podOf(objects, name).pod);
    assert.equal(volume.secretName, 'corp-mcp', name);
    assert.deepEqual(volume.items, [{ key: 'bearer', path: 'token' }], name);
  }
});

test("a user's own analyse.mcp is kept; with mcp disabled, analyse has no MCP config, token or edge", (t) => {
  if (!needHelm(t)) return;
  const own = { url: 'http://mcp.elsewhere.example:7700/mcp', tokenEnv: 'MCP_TOKEN' };
  const custom = rendered({ agents: { analyse: { config: { analyse: { mcp: own } } } } }).objects;
  assert.deepEqual(loadRendered(custom, 'analyse').analyse.mcp, own);

  const off = rendered({ mcp: { enabled: false } }).objects;
  assert.equal(loadRendered(off, 'analyse').analyse.mcp, undefined);
  assert.equal(tokenVolume(podOf(off, 'analyse').pod), undefined);
  const named = (o: K8sObject) => o.metadata.name.includes('mcp');
  assert.deepEqual(
    off.filter(named).map((o) => `${o.kind}/${o.metadata.name}`),
    [],
  );
  const analysePolicy = find(off, 'CiliumNetworkPolicy', 'falconer-analyse') as Any;
  assert.ok(!JSON.stringify(analysePolicy.spec.egress).includes(String(mcpPorts.http)));
});

test("mcp's CiliumNetworkPolicy: MCP from analyse and mcp.clientsFrom only, probes and Prometheus on ops", (t) => {
  if (!needHelm(t)) return;
  const ide = { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'soc-tools', app: 'mcp-client' } };
  const policy = find(
    rendered({ mcp: { clientsFrom: [ide] } }).objects,
    'CiliumNetworkPolicy',
    'falconer-mcp',
  ) as Any;
  const byPort = new Map<string, Any[]>();
  for (const rule of policy.spec.ingress) {
    for (const tp of rule.toPorts) {
      for (const p of tp.ports) byPort.set(p.port, [...(byPort.get(p.port) ?? []), rule]);
    }
  }
  assert.deepEqual([...byPort.keys()].sort(), [String(mcpPorts.http), String(mcpPorts.ops)]);
  const mcpFrom = byPort.get(String(mcpPorts.http))!.flatMap((r: Any) => r.fromEndpoints ?? []);
  assert.deepEqual(
    mcpFrom.map((s: Any) => s.matchLabels['app.kubernetes.io/component'] ?? s.matchLabels.app),
    ['analyse', 'mcp-client'],
  );
  assert.ok(byPort.get(String(mcpPorts.http))!.every((r: Any) => r.fromEntities === undefined));
  const ops = byPort.get(String(mcpPorts.ops))!;
  assert.ok(
    ops.some((r: Any) => r.fromEntities?.includes('host')),
    'kubelet probes',
  );
  assert.ok(
    ops.some(
      (r: Any) => r.fromEndpoints?.[0]?.matchLabels?.['k8s:io.kubernetes.pod.namespace'] === 'monitoring',
    ),
  );
  // Egress: DNS, A2A to detect and the coordinator, the API server; nothing external.
  const egressPorts = policy.spec.egress.flatMap((r: Any) => r.toPorts[0].ports.map((p: Any) => p.port));
  assert.deepEqual(
    egressPorts.sort(),
    ['443', '53', '6443', String(ports.detect.a2a), String(ports.coordinator.a2a)].sort(),
  );
  assert.equal(JSON.stringify(policy.spec.egress).includes('toFQDNs'), false);
});

test("the ServiceMonitor scrapes mcp's ops port (its Service carries the selected labels and an `ops` port)", (t) => {
  if (!needHelm(t)) return;
  const { objects } = rendered();
  const monitor = find(objects, 'ServiceMonitor', 'falconer') as Any;
  const svc = find(objects, 'Service', 'falconer-mcp') as Any;
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) {
    assert.equal(svc.metadata.labels[k], v, k);
  }
  const endpoint = monitor.spec.endpoints[0];
  const port = svc.spec.ports.find((p: Any) => p.name === endpoint.port);
  assert.equal(port.port, mcpPorts.ops);
  assert.equal(svc.metadata.labels['app.kubernetes.io/component'], 'mcp', 'scraped as agent="mcp"');
});
