/**
 * A stand-in Kubernetes API server for one namespaced custom resource, with
 * the list/watch wire protocol an informer relies on (no real kube-apiserver
 * can be had on this machine; see fake-kube-api.ts). It serves:
 *   GET    /apis/<group>/<version>/namespaces/<ns>/<plural>               list (metadata.resourceVersion)
 *   GET    …/<plural>?watch=true&resourceVersion=N                         chunked stream of
 *          {"type":"ADDED|MODIFIED|DELETED|ERROR","object":…} lines: the events after N, then live
 *          ones; a compacted N gets an ERROR event with a 410 Expired Status, as the real server does
 *   GET    …/<plural>/<name>
 *   PATCH  …/<plural>/<name>/status   merge patch of .status only (the status subresource)
 * The test changes objects through create/update/remove, as another client of the API would,
 * which bumps resourceVersion (and metadata.generation on a spec change) and emits the event.
 * Requests need the bearer token of the returned kubeConfig.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';

export interface CustomResourceDef {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

type Obj = Record<string, unknown> & {
  metadata: Record<string, unknown> & { name: string; namespace: string; resourceVersion: string };
};
type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface LoggedWatchRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType?: string;
  body?: unknown;
}

export interface FakeKubeWatch {
  url: string;
  kubeConfig: KubeConfig;
  requests: LoggedWatchRequest[];
  /** Creates an object (ADDED); returns it as stored. */
  create(namespace: string, obj: Record<string, unknown>): Obj;
  /** Replaces spec/metadata.labels/annotations of an object (MODIFIED); generation grows when the spec changes. */
  update(namespace: string, name: string, change: { spec?: unknown; labels?: Record<string, string> }): Obj;
  remove(namespace: string, name: string): void;
  get(namespace: string, name: string): Obj | undefined;
  /** Status merge patches received, in order. */
  statusPatches(): { name: string; body: unknown }[];
  /** Open watch streams. */
  watchers(): number;
  /** Ends every open watch stream (the client re-watches from its last resourceVersion). */
  dropWatches(): void;
  /** Forgets the event history, so a re-watch from an old resourceVersion gets 410 Gone and relists. */
  compact(): void;
  /** The next `count` watch requests get this HTTP error (an API server restarting, say). */
  failWatches(count: number, code: number): void;
  /** Status patches get 403 Forbidden (an agent without RBAC on <plural>/status). */
  forbidStatus(forbidden: boolean): void;
  close(): Promise<void>;
}

const TOKEN = 'fake-watch-token';

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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeKubeWatch(def: CustomResourceDef): Promise<FakeKubeWatch> {
  const apiVersion = `${def.group}/${def.version}`;
  const store = new Map<string, Obj>(); // "<ns>/<name>"
  const history: { rv: number; type: EventType; object: Obj }[] = [];
  /** Events at or below this resourceVersion are no longer in history (compacted). */
  let compactedRv = 0;
  const open = new Set<{ ns: string; res: ServerResponse }>();
  const requests: LoggedWatchRequest[] = [];
  const patches: { name: string; body: unknown }[] = [];
  let rv = 100;
  let uid = 0;
  let failingWatches = { count: 0, code: 500 };
  let statusForbidden = false;

  const copy = (o: Obj): Obj => structuredClone(o);
  const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

  function emit(type: EventType, object: Obj): void {
    history.push({ rv: Number(object.metadata.resourceVersion), type, object: copy(object) });
    for (const w of open) if (w.ns === object.metadata.namespace) w.res.write(line(type, object));
  }

  function handle(req: IncomingMessage, res: ServerResponse, text: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const contentType = req.headers['content-type'];
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      ...(contentType !== undefined ? { contentType } : {}),
      ...(text ? { body: JSON.parse(text) as unknown } : {}),
    });
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    const prefix = `/apis/${apiVersion}/namespaces/`;
    if (!url.pathname.startsWith(prefix))
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const [ns, plural, name, sub, ...extra] = url.pathname.slice(prefix.length).split('/');
    if (
      ns === undefined ||
      plural !== def.plural ||
      extra.length > 0 ||
      (sub !== undefined && sub !== 'status')
    ) {
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    if (name === undefined) {
      if (req.method !== 'GET')
        return status(res, 405, 'MethodNotAllowed', 'the fake only lists and watches collections');
      const items = [...store.values()].filter((o) => o.metadata.namespace === ns);
      if (query.watch !== 'true') {
        return json(res, 200, {
          apiVersion,
          kind: `${def.kind}List`,
          metadata: { resourceVersion: String(rv) },
          items,
        });
      }
      if (failingWatches.count > 0) {
        failingWatches.count--;
        return status(res, failingWatches.code, 'InternalError', 'the fake fails this watch on purpose');
      }
      const from = Number(query.resourceVersion ?? '0');
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders(); // as the API server does: the client sees the watch open before any event
      if (query.resourceVersion === undefined || query.resourceVersion === '' || from === 0) {
        // No resourceVersion: the current state as ADDED events, then live ones.
        for (const o of items) res.write(line('ADDED', o));
      } else if (from < compactedRv) {
        res.end(
          line('ERROR', {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: `too old resource version: ${from} (${compactedRv})`,
            reason: 'Expired',
            code: 410,
          }),
        );
        return;
      } else {
        for (const e of history)
          if (e.rv > from && e.object.metadata.namespace === ns) res.write(line(e.type, e.object));
      }
      const watcher = { ns, res };
      open.add(watcher);
      res.on('close', () => open.delete(watcher));
      return;
    }
    const key = `${ns}/${name}`;
    const current = store.get(key);
    if (current === undefined)
      return status(res, 404, 'NotFound', `${def.plural}.${def.group} "${name}" not found`);
    if (req.method === 'GET' && sub === undefined) return json(res, 200, current);
    if (req.method === 'PATCH' && sub === 'status') {
      if (statusForbidden) {
        return status(
          res,
          403,
          'Forbidden',
          `cannot patch resource "${def.plural}/status" in API group "${def.group}"`,
        );
      }
      if (!String(contentType).startsWith('application/merge-patch+json')) {
        return status(
          res,
          415,
          'UnsupportedMediaType',
          `the fake speaks merge patches only, got ${String(contentType)}`,
        );
      }
      const body = JSON.parse(text) as { status?: unknown };
      patches.push({ name, body });
      // The status subresource changes .status only, whatever else the body holds.
      const next = copy(current);
      next.status = mergePatch(current.status, body.status ?? {});
      if (isDeepStrictEqual(next.status, current.status)) return json(res, 200, current);
      next.metadata.resourceVersion = String(++rv);
      store.set(key, next);
      emit('MODIFIED', next);
      return json(res, 200, next);
    }
    return status(res, 405, 'MethodNotAllowed', 'method not allowed by the fake');
  }

  const server: Server = createServer((req, res) => {
    readBody(req)
      .then((text) => handle(req, res, text))
      .catch((err: unknown) => status(res, 500, 'InternalError', String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
    users: [{ name: 'falconer', token: TOKEN }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'falconer', namespace: 'default' }],
    currentContext: 'fake',
  });

  return {
    url,
    kubeConfig,
    requests,
    create(namespace, obj) {
      const meta = (obj.metadata ?? {}) as Record<string, unknown>;
      const name = String(meta.name);
      const key = `${namespace}/${name}`;
      if (store.has(key)) throw new Error(`fake: ${key} already exists`);
      const created = {
        ...structuredClone(obj),
        apiVersion,
        kind: def.kind,
        metadata: {
          ...structuredClone(meta),
          name,
          namespace,
          uid: `uid-${++uid}`,
          generation: 1,
          resourceVersion: String(++rv),
          creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      } as Obj;
      delete created.status; // a create ignores status when the status subresource is on
      store.set(key, created);
      emit('ADDED', created);
      return copy(created);
    },
    update(namespace, name, change) {
      const key = `${namespace}/${name}`;
      const current = store.get(key);
      if (current === undefined) throw new Error(`fake: ${key} not found`);
      const next = copy(current);
      if (change.spec !== undefined && !isDeepStrictEqual(change.spec, current.spec)) {
        next.spec = structuredClone(change.spec);
        next.metadata.generation = Number(current.metadata.generation ?? 1) + 1;
      }
      if (change.labels !== undefined) next.metadata.labels = { ...change.labels };
      next.metadata.resourceVersion = String(++rv);
      store.set(key, next);
      emit('MODIFIED', next);
      return copy(next);
    },
    remove(namespace, name) {
      const key = `${namespace}/${name}`;
      const current = store.get(key);
      if (current === undefined) throw new Error(`fake: ${key} not found`);
      store.delete(key);
      const gone = copy(current);
      gone.metadata.resourceVersion = String(++rv);
      emit('DELETED', gone);
    },
    get(namespace, name) {
      const o = store.get(`${namespace}/${name}`);
      return o === undefined ? undefined : copy(o);
    },
    statusPatches: () => [...patches],
    watchers: () => open.size,
    dropWatches() {
      for (const w of open) w.res.end();
      open.clear();
    },
    compact() {
      compactedRv = rv;
      history.length = 0;
    },
    failWatches(count, code) {
      failingWatches = { count, code };
    },
    forbidStatus(forbidden) {
      statusForbidden = forbidden;
    },
    close() {
      for (const w of open) w.res.end();
      open.clear();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
