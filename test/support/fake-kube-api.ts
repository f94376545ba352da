/**
 * A stand-in for a Kubernetes API server, used because no real
 * kube-apiserver can be built or installed on this machine (go install of
 * k8s.io/kubernetes/cmd/kube-apiserver and of etcd's server refuses their
 * replace directives). It speaks the real HTTP API for the calls the
 * executor makes: discovery (/api/v1, /apis/<group>/<version>), get, create,
 * merge-patch and delete of namespaced and cluster-scoped objects, dryRun=All,
 * and Status bodies for errors. Requests are logged so tests can assert that
 * nothing was written.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const DEFAULT_RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
  },
  {
    group: 'cilium.io',
    version: 'v2',
    kind: 'CiliumNetworkPolicy',
    plural: 'ciliumnetworkpolicies',
    namespaced: true,
  },
  { group: 'kyverno.io', version: 'v1', kind: 'ClusterPolicy', plural: 'clusterpolicies', namespaced: false },
];

export interface LoggedRequest {
  method: string;
  path: string;
  dryRun: boolean;
}

type Obj = Record<string, unknown> & { metadata: Record<string, unknown> };

export interface FakeKubeApi {
  url: string;
  kubeConfig: KubeConfig;
  requests: LoggedRequest[];
  /** Stored objects by "<group>/<plural>/<namespace>/<name>". */
  put(obj: Record<string, unknown>): void;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined;
  mutations(): LoggedRequest[];
  close(): Promise<void>;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeKubeApi(
  options: { resources?: ResourceDef[]; withoutCilium?: boolean } = {},
): Promise<FakeKubeApi> {
  const resources = (options.resources ?? DEFAULT_RESOURCES).filter(
    (r) => !(options.withoutCilium && r.group === 'cilium.io'),
  );
  const store = new Map<string, Obj>();
  const requests: LoggedRequest[] = [];
  let rv = 1000;
  let uid = 0;

  const gv = (r: ResourceDef) => (r.group ? `${r.group}/${r.version}` : r.version);
  const key = (r: ResourceDef, ns: string | undefined, name: string) =>
    `${r.group}/${r.plural}/${ns ?? ''}/${name}`;
  const byKind = (apiVersion: string, kind: string) =>
    resources.find((r) => gv(r) === apiVersion && r.kind === kind);

  function handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const dryRun = url.searchParams.get('dryRun') === 'All';
    requests.push({ method: req.method ?? 'GET', path: url.pathname, dryRun });
    const parts = url.pathname.split('/').filter(Boolean);
    // Discovery: /api/v1 or /apis/<group>/<version>
    const isCore = parts[0] === 'api';
    const group = isCore ? '' : (parts[1] ?? '');
    const version = isCore ? parts[1] : parts[2];
    const rest = parts.slice(isCore ? 2 : 3);
    const served = resources.filter((r) => r.group === group && r.version === version);
    if (served.length === 0)
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0 && req.method === 'GET') {
      return json(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: group ? `${group}/${version}` : version,
        resources: served.map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'],
        })),
      });
    }
    let ns: string | undefined;
    let tail = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      ns = rest[1];
      tail = rest.slice(2);
    }
    const r = served.find((s) => s.plural === tail[0]);
    if (r === undefined || r.namespaced !== (ns !== undefined))
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const name = tail[1];
    if (req.method === 'POST' && name === undefined) {
      const obj = JSON.parse(text) as Obj;
      const objName = String(obj.metadata?.name ?? '');
      if (obj.kind !== r.kind || `${obj.apiVersion}` !== gv(r))
        return status(res, 400, 'BadRequest', 'kind/apiVersion do not match the URL');
      if (r.namespaced && obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) {
        return status(
          res,
          400,
          'BadRequest',
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      const k = key(r, ns, objName);
      if (store.has(k)) return status(res, 409, 'AlreadyExists', `${r.plural} "${objName}" already exists`);
      const created: Obj = {
        ...obj,
        metadata: {
          ...obj.metadata,
          ...(ns ? { namespace: ns } : {}),
          uid: `uid-${++uid}`,
          resourceVersion: String(++rv),
          creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      };
      if (!dryRun) store.set(k, created);
      return json(res, 201, created);
    }
    if (name === undefined) return status(res, 405, 'MethodNotAllowed', 'not supported by the fake');
    const k = key(r, ns, name);
    const current = store.get(k);
    if (current === undefined) return status(res, 404, 'NotFound', `${r.plural} "${name}" not found`);
    if (req.method === 'GET') return json(res, 200, current);
    if (req.method === 'PATCH') {
      if (!String(req.headers['content-type']).startsWith('application/merge-patch+json')) {
        return status(res, 415, 'UnsupportedMediaType', 'the fake only speaks merge patches');
      }
      const next = mergePatch(current, JSON.parse(text)) as Obj;
      next.metadata = { ...next.metadata, name, resourceVersion: String(++rv) };
      if (!dryRun) store.set(k, next);
      return json(res, 200, next);
    }
    if (req.method === 'DELETE') {
      if (!dryRun) store.delete(k);
      return json(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, kind: r.plural },
      });
    }
    return status(res, 405, 'MethodNotAllowed', 'method not allowed');
  }

  const server: Server = createServer((req, res) => {
    body(req)
      .then((text) => handle(req, res, text))
      .catch((err: unknown) => status(res, 500, 'InternalError', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'falconer', token: 'test-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'falconer' }],
    currentContext: 'fake',
  });
  return {
    url,
    kubeConfig,
    requests,
    put(obj) {
      const o = obj as Obj;
      const r = byKind(String(o.apiVersion), String(o.kind));
      if (r === undefined) throw new Error(`fake: unknown kind ${String(o.kind)}`);
      store.set(key(r, o.metadata.namespace as string | undefined, String(o.metadata.name)), {
        ...o,
        metadata: { uid: `uid-${++uid}`, resourceVersion: String(++rv), ...o.metadata },
      });
    },
    get(apiVersion, kind, namespace, name) {
      const r = byKind(apiVersion, kind);
      return r === undefined ? undefined : store.get(key(r, namespace, name));
    },
    mutations() {
      return requests.filter((q) => q.method !== 'GET' && !q.dryRun);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
