/** Pure helpers for before/after records and rollback patches. */
import type { Plain } from './kube.ts';

/** Marks "this object did not exist" in a before-state list. */
export const ABSENT_MARKER = 'falconerAbsent';

export function absent(ref: Plain): Plain {
  return { ...ref, [ABSENT_MARKER]: true };
}

export function isAbsent(obj: Plain | undefined): boolean {
  return obj === undefined || obj[ABSENT_MARKER] === true;
}

function isObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The merge patch that undoes `patch` given the object as it was before:
 * each field the patch set goes back to its old value, or is removed (null)
 * when it did not exist. Identity fields (apiVersion, kind, name, namespace) stay.
 */
export function inverseMergePatch(patch: Plain, before: Plain): Plain {
  const out: Plain = { apiVersion: patch.apiVersion, kind: patch.kind };
  const meta = (patch.metadata ?? {}) as Plain;
  const beforeMeta = (before.metadata ?? {}) as Plain;
  const invMeta: Plain = { name: meta.name };
  if (meta.namespace !== undefined) invMeta.namespace = meta.namespace;
  for (const [k, v] of Object.entries(meta)) {
    if (k === 'name' || k === 'namespace') continue;
    invMeta[k] = invert(v, beforeMeta[k]);
  }
  out.metadata = invMeta;
  for (const [k, v] of Object.entries(patch)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    out[k] = invert(v, before[k]);
  }
  return out;
}

function invert(patchValue: unknown, beforeValue: unknown): unknown {
  if (isObject(patchValue)) {
    if (!isObject(beforeValue)) return beforeValue === undefined ? null : beforeValue;
    const out: Plain = {};
    for (const [k, v] of Object.entries(patchValue)) out[k] = invert(v, beforeValue[k]);
    return out;
  }
  return beforeValue === undefined ? null : beforeValue;
}

/** An object as it can be created again: no server-set fields, no status. */
export function recreatable(obj: Plain): Plain {
  const meta = (obj.metadata ?? {}) as Plain;
  const keep: Plain = {};
  for (const k of ['name', 'namespace', 'labels', 'annotations', 'ownerReferences', 'finalizers']) {
    if (meta[k] !== undefined) keep[k] = meta[k];
  }
  const out: Plain = { ...obj, metadata: keep };
  delete out.status;
  return out;
}

/** True when a controller owns the object (it recreates a deleted pod itself). */
export function controllerOwned(obj: Plain): boolean {
  const refs = ((obj.metadata ?? {}) as Plain).ownerReferences;
  return Array.isArray(refs) && refs.some((r) => isObject(r) && r.controller === true);
}

/** JSON with sorted keys: the same object always gives the same text (digests, comparisons). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
