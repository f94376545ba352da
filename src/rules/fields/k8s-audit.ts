/**
 * The k8s_audit source: `ka.*` fields of Falco's k8saudit plugin and the
 * `jevt.*` / `json.*` fields of its json plugin, over one Kubernetes audit
 * event (audit.k8s.io/v1 Event JSON). Semantics follow the plugin's documented
 * behaviour: non-string JSON values are rendered as compact JSON (`true`,
 * `201`, `{"a":1}`); list fields yield arrays; a field whose path is absent is
 * missing. Where the plugin fails a whole list field because one element lacks
 * the key (e.g. a volume without hostPath for `ka.req.pod.volumes.hostpath`),
 * so do we (`strict` below).
 */
import type { FieldRef } from '../ast.ts';
import { jsonPointer } from './json-pointer.ts';
import type { Extracted, FieldSource, Getter } from './types.ts';

export type AuditEvent = unknown;
type Json = unknown;

function at(v: Json, ...keys: string[]): Json {
  let cur = v;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, Json>)[k];
  }
  return cur;
}

/** The plugin's string rendering of a JSON value. */
export function jsonString(v: Json): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function scalarAt(...keys: string[]): (ev: AuditEvent) => Extracted {
  return (ev) => jsonString(at(ev, ...keys));
}

function listAt(...keys: string[]): (ev: AuditEvent, arg?: string) => Extracted {
  return (ev) => {
    const v = at(ev, ...keys);
    if (!Array.isArray(v)) return undefined;
    return v.map((x) => jsonString(x) ?? 'null');
  };
}

/** An index argument (`[0]`) selects one element; any other argument is ignored, as in the plugin. */
function arrayWithIndex(ev: AuditEvent, arg: string | undefined, ...keys: string[]): Json[] | undefined {
  const arr = at(ev, ...keys);
  if (!Array.isArray(arr)) return undefined;
  if (arg !== undefined && /^-?[0-9]+$/.test(arg)) {
    const i = Number(arg);
    return i >= 0 && i < arr.length ? [arr[i]] : undefined;
  }
  return arr;
}

/** One value per container/volume/rule element; `strict`: an element without it fails the whole field. */
function perElement(
  base: string[],
  keys: string[],
  mode: 'strict' | 'skip',
): (ev: AuditEvent, arg?: string) => Extracted {
  return (ev, arg) => {
    const arr = arrayWithIndex(ev, arg, ...base);
    if (arr === undefined) return undefined;
    const out: string[] = [];
    for (const el of arr) {
      const s = jsonString(at(el, ...keys));
      if (s === undefined) {
        if (mode === 'strict') return undefined;
        continue;
      }
      out.push(s);
    }
    return out;
  };
}

function images(ev: AuditEvent, arg?: string): string[] | undefined {
  const v = perElement(['requestObject', 'spec', 'containers'], ['image'], 'strict')(ev, arg);
  return Array.isArray(v) ? (v as string[]) : undefined;
}

/** Repository of an image reference: before the first ':' and '@' (the plugin's simple split). */
export function imageRepository(image: string): string {
  return image.split(':')[0]!.split('@')[0]!;
}

function effective(key: string): (ev: AuditEvent, arg?: string) => Extracted {
  return (ev, arg) => {
    const podLevel = jsonString(at(ev, 'requestObject', 'spec', 'securityContext', key)) ?? '0';
    const arr = arrayWithIndex(ev, arg, 'requestObject', 'spec', 'containers');
    if (arr === undefined) return undefined;
    return arr.map((c) => jsonString(at(c, 'securityContext', key)) ?? podLevel);
  };
}

function rulesField(key: string): (ev: AuditEvent, arg?: string) => Extracted {
  return (ev, arg) => {
    const arr = arrayWithIndex(ev, arg, 'requestObject', 'rules');
    if (arr === undefined) return undefined;
    const out: string[] = [];
    for (const r of arr) {
      const v = at(r, key);
      if (Array.isArray(v)) for (const x of v) if (x !== null) out.push(jsonString(x)!);
    }
    return out;
  };
}

/** Event time in ns: stageTimestamp, else requestReceivedTimestamp (what the plugin stamps events with). */
export function auditEventTimeNs(ev: AuditEvent): number | undefined {
  for (const key of ['stageTimestamp', 'requestReceivedTimestamp']) {
    const t = at(ev, key);
    if (typeof t !== 'string') continue;
    const ms = Date.parse(t);
    if (!Number.isFinite(ms)) continue;
    const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
    const subMs = frac.length > 3 ? Number(frac.slice(3, 9).padEnd(6, '0')) : 0;
    return ms * 1e6 + subMs;
  }
  return undefined;
}

interface FieldSpec {
  extract: (ev: AuditEvent, arg?: string) => Extracted;
  /** The field needs a `[arg]`. */
  requiresArg?: boolean;
}

const containers = ['requestObject', 'spec', 'containers'];
const volumes = ['requestObject', 'spec', 'volumes'];

export const K8S_AUDIT_FIELDS: Readonly<Record<string, FieldSpec>> = {
  'ka.auditid': { extract: scalarAt('auditID') },
  'ka.stage': { extract: scalarAt('stage') },
  'ka.auth.decision': { extract: scalarAt('annotations', 'authorization.k8s.io/decision') },
  'ka.auth.reason': { extract: scalarAt('annotations', 'authorization.k8s.io/reason') },
  'ka.user.name': { extract: scalarAt('user', 'username') },
  'ka.user.groups': { extract: listAt('user', 'groups') },
  'ka.impuser.name': { extract: scalarAt('impersonatedUser', 'username') },
  'ka.verb': { extract: scalarAt('verb') },
  'ka.uri': { extract: scalarAt('requestURI') },
  'ka.uri.param': {
    requiresArg: true,
    extract: (ev, arg) => {
      const uri = at(ev, 'requestURI');
      if (typeof uri !== 'string' || arg === undefined) return undefined;
      try {
        return new URL(uri, 'http://x').searchParams.get(arg) ?? undefined;
      } catch {
        return undefined;
      }
    },
  },
  'ka.target.name': { extract: scalarAt('objectRef', 'name') },
  'ka.target.namespace': { extract: scalarAt('objectRef', 'namespace') },
  'ka.target.resource': { extract: scalarAt('objectRef', 'resource') },
  'ka.target.subresource': { extract: scalarAt('objectRef', 'subresource') },
  'ka.req.binding.subjects': { extract: listAt('requestObject', 'subjects') },
  'ka.req.binding.role': { extract: scalarAt('requestObject', 'roleRef', 'name') },
  'ka.req.binding.subject.has_name': { requiresArg: true, extract: () => 'true' },
  'ka.req.configmap.name': { extract: scalarAt('objectRef', 'name') },
  'ka.req.configmap.obj': { extract: scalarAt('requestObject', 'data') },
  'ka.req.pod.containers.image': { extract: images },
  'ka.req.pod.containers.image.repository': { extract: (ev, arg) => images(ev, arg)?.map(imageRepository) },
  'ka.req.container.image': { extract: (ev) => images(ev, '0')?.[0] },
  'ka.req.container.image.repository': {
    extract: (ev) => {
      const i = images(ev, '0')?.[0];
      return i === undefined ? undefined : imageRepository(i);
    },
  },
  'ka.req.pod.host_ipc': { extract: scalarAt('requestObject', 'spec', 'hostIPC') },
  'ka.req.pod.host_network': { extract: scalarAt('requestObject', 'spec', 'hostNetwork') },
  'ka.req.container.host_network': { extract: scalarAt('requestObject', 'spec', 'hostNetwork') },
  'ka.req.pod.host_pid': { extract: scalarAt('requestObject', 'spec', 'hostPID') },
  'ka.req.pod.containers.host_port': {
    extract: (ev, arg) => {
      const arr = arrayWithIndex(ev, arg, ...containers);
      if (arr === undefined) return undefined;
      const out: string[] = [];
      for (const c of arr) {
        const ports = at(c, 'ports');
        if (!Array.isArray(ports)) return undefined;
        for (const p of ports) {
          const v = jsonString(at(p, 'hostPort')) ?? jsonString(at(p, 'containerPort'));
          if (v !== undefined) out.push(v);
        }
      }
      return out;
    },
  },
  'ka.req.pod.containers.privileged': {
    extract: perElement(containers, ['securityContext', 'privileged'], 'skip'),
  },
  'ka.req.container.privileged': {
    extract: (ev) => {
      const arr = arrayWithIndex(ev, undefined, ...containers);
      if (arr === undefined) return undefined;
      return arr.some((c) => at(c, 'securityContext', 'privileged') === true) ? 'true' : 'false';
    },
  },
  'ka.req.pod.containers.allow_privilege_escalation': {
    extract: perElement(containers, ['securityContext', 'allowPrivilegeEscalation'], 'strict'),
  },
  'ka.req.pod.containers.read_only_fs': {
    extract: perElement(containers, ['securityContext', 'readOnlyRootFilesystem'], 'strict'),
  },
  'ka.req.pod.run_as_user': { extract: scalarAt('requestObject', 'spec', 'securityContext', 'runAsUser') },
  'ka.req.pod.containers.run_as_user': {
    extract: perElement(containers, ['securityContext', 'runAsUser'], 'strict'),
  },
  'ka.req.pod.containers.eff_run_as_user': { extract: effective('runAsUser') },
  'ka.req.pod.run_as_group': { extract: scalarAt('requestObject', 'spec', 'securityContext', 'runAsGroup') },
  'ka.req.pod.containers.run_as_group': {
    extract: perElement(containers, ['securityContext', 'runAsGroup'], 'strict'),
  },
  'ka.req.pod.containers.eff_run_as_group': { extract: effective('runAsGroup') },
  'ka.req.pod.containers.proc_mount': {
    extract: perElement(containers, ['securityContext', 'procMount'], 'strict'),
  },
  'ka.req.role.rules': { extract: listAt('requestObject', 'rules') },
  'ka.req.role.rules.apiGroups': { extract: rulesField('apiGroups') },
  'ka.req.role.rules.nonResourceURLs': { extract: rulesField('nonResourceURLs') },
  'ka.req.role.rules.verbs': { extract: rulesField('verbs') },
  'ka.req.role.rules.resources': { extract: rulesField('resources') },
  'ka.req.pod.fs_group': { extract: scalarAt('requestObject', 'spec', 'securityContext', 'fsGroup') },
  'ka.req.pod.supplemental_groups': {
    extract: listAt('requestObject', 'spec', 'securityContext', 'supplementalGroups'),
  },
  'ka.req.pod.containers.add_capabilities': {
    extract: (ev, arg) => {
      const arr = arrayWithIndex(ev, arg, ...containers);
      if (arr === undefined) return undefined;
      const out: string[] = [];
      for (const c of arr) {
        const caps = at(c, 'securityContext', 'capabilities', 'add');
        if (caps === undefined) return undefined;
        out.push(jsonString(caps)!);
      }
      return out;
    },
  },
  'ka.req.service.type': { extract: scalarAt('requestObject', 'spec', 'type') },
  'ka.req.service.ports': {
    extract: (ev, arg) =>
      arrayWithIndex(ev, arg, 'requestObject', 'spec', 'ports')?.map((p) => jsonString(p) ?? 'null'),
  },
  'ka.req.volume.hostpath': {
    requiresArg: true,
    extract: (ev, arg) => {
      const paths = perElement(volumes, ['hostPath', 'path'], 'strict')(ev);
      if (!Array.isArray(paths) || arg === undefined) return undefined;
      const prefix = arg.endsWith('*') ? arg.slice(0, -1) : null;
      return (paths as string[]).some((p) => p === arg || (prefix !== null && p.startsWith(prefix)))
        ? 'true'
        : 'false';
    },
  },
  'ka.req.pod.volumes.hostpath': { extract: perElement(volumes, ['hostPath', 'path'], 'strict') },
  'ka.req.pod.volumes.flexvolume_driver': {
    extract: perElement(volumes, ['flexVolume', 'driver'], 'strict'),
  },
  'ka.req.pod.volumes.volume_type': {
    extract: (ev, arg) => {
      const arr = arrayWithIndex(ev, arg, ...volumes);
      if (arr === undefined) return undefined;
      const out: string[] = [];
      for (const v of arr) {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
        for (const k of Object.keys(v)) if (k !== 'name') out.push(k);
      }
      return out;
    },
  },
  'ka.resp.name': { extract: scalarAt('responseObject', 'metadata', 'name') },
  'ka.response.code': { extract: scalarAt('responseStatus', 'code') },
  'ka.response.reason': { extract: scalarAt('responseStatus', 'reason') },
  'ka.useragent': { extract: scalarAt('userAgent') },
  // json plugin (jevt.* is the legacy alias of json.*)
  'json.value': { requiresArg: true, extract: (ev, arg) => jsonString(jsonPointer(ev, arg ?? '')) },
  'jevt.value': { requiresArg: true, extract: (ev, arg) => jsonString(jsonPointer(ev, arg ?? '')) },
  'json.obj': { extract: (ev) => jsonString(ev) },
  'jevt.obj': { extract: (ev) => jsonString(ev) },
  'jevt.time': {
    extract: (ev) => jsonString(at(ev, 'stageTimestamp')) ?? jsonString(at(ev, 'requestReceivedTimestamp')),
  },
  'jevt.time.iso8601': {
    extract: (ev) => jsonString(at(ev, 'stageTimestamp')) ?? jsonString(at(ev, 'requestReceivedTimestamp')),
  },
  // An event always has a timestamp (the plugin stamps one when the event has none), so this always exists.
  'jevt.rawtime': { extract: (ev) => auditEventTimeNs(ev) ?? Date.now() * 1e6 },
};

export const k8sAuditFields: FieldSource<AuditEvent> = {
  name: 'k8s_audit',
  field(ref: FieldRef) {
    const spec = K8S_AUDIT_FIELDS[ref.name];
    if (spec === undefined) return `unknown field '${ref.name}' for source k8s_audit`;
    if (spec.requiresArg === true && (ref.arg === undefined || ref.arg === ''))
      return `field '${ref.name}' requires an argument, e.g. ${ref.name}[…]`;
    const arg = ref.arg;
    const get: Getter<AuditEvent> = (ev) => spec.extract(ev, arg);
    return get;
  },
};
