/**
 * Offline validation of a rendered object: CRD kinds against the real CRD
 * schema, core kinds against the API model, and metadata against the
 * Kubernetes naming rules (names, label keys and values, annotation keys).
 */
import { FalconerError } from '../../errors.ts';
import '../errors.ts';
import { isDns1123Subdomain, isLabelValue, isQualifiedKey } from '../names.ts';
import type { CrdCatalog } from './crds.ts';
import { coreModelFor, validateCoreObject } from './core.ts';
import { validateSchema } from './openapi.ts';

const METADATA_BYTES_MAX = 256 * 1024;

export function validateMetadata(obj: Record<string, unknown>, mergePatch = false): string[] {
  const errors: string[] = [];
  const meta = obj.metadata as Record<string, unknown> | undefined;
  if (meta === undefined || typeof meta !== 'object') return ['metadata: missing'];
  const name = meta.name;
  if (typeof name !== 'string' || !isDns1123Subdomain(name))
    errors.push(`metadata.name: '${String(name).slice(0, 80)}' is not a DNS-1123 subdomain`);
  if (
    meta.namespace !== undefined &&
    (typeof meta.namespace !== 'string' || !isDns1123Subdomain(meta.namespace) || meta.namespace.length > 63)
  ) {
    errors.push('metadata.namespace: not a DNS-1123 label');
  }
  const labels = (meta.labels ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(labels)) {
    if (!isQualifiedKey(k)) errors.push(`metadata.labels: invalid key '${k.slice(0, 80)}'`);
    // A merge patch removes a label with null.
    if (!(mergePatch && v === null) && (typeof v !== 'string' || !isLabelValue(v))) {
      errors.push(`metadata.labels['${k.slice(0, 80)}']: invalid value`);
    }
  }
  const annotations = (meta.annotations ?? {}) as Record<string, unknown>;
  let bytes = 0;
  for (const [k, v] of Object.entries(annotations)) {
    if (!isQualifiedKey(k)) errors.push(`metadata.annotations: invalid key '${k.slice(0, 80)}'`);
    if (!(mergePatch && v === null) && typeof v !== 'string')
      errors.push(`metadata.annotations['${k.slice(0, 80)}']: must be a string`);
    bytes += k.length + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (bytes > METADATA_BYTES_MAX) errors.push('metadata.annotations: larger than 256 KiB');
  return errors;
}

/** All problems with one object; `mergePatch` objects are partial, so required fields are not checked. */
export function objectProblems(obj: Record<string, unknown>, crds: CrdCatalog, mergePatch = false): string[] {
  const apiVersion = obj.apiVersion;
  const kind = obj.kind;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string')
    return ['apiVersion and kind must be strings'];
  const errors = validateMetadata(obj, mergePatch);
  const crd = crds.get(apiVersion, kind);
  if (crd !== undefined) {
    const schema = mergePatch ? { ...crd.schema, required: [] } : crd.schema;
    errors.push(...validateSchema(obj, schema));
    const meta = obj.metadata as Record<string, unknown>;
    if (crd.scope === 'Cluster' && meta.namespace !== undefined)
      errors.push('metadata.namespace: set on a cluster-scoped kind');
    if (crd.scope === 'Namespaced' && meta.namespace === undefined)
      errors.push('metadata.namespace: missing on a namespaced kind');
  } else if (coreModelFor(apiVersion, kind) !== undefined) {
    errors.push(
      ...validateCoreObject(obj, apiVersion, kind).filter(
        (e) => !(mergePatch && e.startsWith('missing required')),
      ),
    );
  } else {
    errors.push(`no schema known for ${apiVersion}/${kind}`);
  }
  return errors;
}

export function assertValidObject(obj: Record<string, unknown>, crds: CrdCatalog, mergePatch = false): void {
  const problems = objectProblems(obj, crds, mergePatch);
  if (problems.length > 0) {
    throw new FalconerError(
      'SCHEMA_INVALID',
      `${String(obj.kind)} does not match its schema: ${problems.slice(0, 5).join('; ')}`,
      {
        kind: obj.kind,
        problems: problems.slice(0, 20),
      },
    );
  }
}
