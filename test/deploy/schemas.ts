/**
 * Every rendered object, validated against its real schema: custom resources
 * against the upstream CRDs in ../shared/data/crds (cert-manager, Cilium,
 * Kyverno, Prometheus operator, Argo CD) and Falconer's own AgentPrompt CRD;
 * built-in kinds against the @kubernetes/client-node models.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { PROJECT_ROOT, SHARED_DATA } from '../support/paths.ts';
import { validateAgainstModel, validateBuiltin } from './k8s-models.ts';
import { validateStructural, type SchemaProblem, type StructuralSchema } from './structural-schema.ts';

export const UPSTREAM_CRDS = join(SHARED_DATA, 'crds');
export const AGENTPROMPT_CRD = join(
  PROJECT_ROOT,
  'deploy/helm/falconer/files/crds/falconer.dev_agentprompts.yaml',
);

export interface CrdVersionSchema {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly scope: 'Namespaced' | 'Cluster';
  readonly schema: StructuralSchema;
}

interface CrdDocument {
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string };
    versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: StructuralSchema } }[];
  };
}

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
};

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFilesUnder(path);
    return name.endsWith('.yaml') ? [path] : [];
  });
}

/** Parses a CRD file into one entry per served version. */
export function crdVersions(file: string): CrdVersionSchema[] {
  const crd = parseAllDocuments(readFileSync(file, 'utf8'))[0]!.toJS() as CrdDocument;
  return crd.spec.versions
    .filter((v) => v.served && v.schema?.openAPIV3Schema !== undefined)
    .map((v) => ({
      group: crd.spec.group,
      version: v.name,
      kind: crd.spec.names.kind,
      scope: crd.spec.scope,
      schema: v.schema!.openAPIV3Schema!,
    }));
}

let index: Map<string, string> | undefined;
const parsed = new Map<string, CrdVersionSchema[]>();

/** `group/Kind` → CRD file, read from each file's header so that only the CRDs in use get parsed (some are 1.4 MB). */
function crdIndex(): Map<string, string> {
  if (index === undefined) {
    index = new Map();
    for (const file of [...yamlFilesUnder(UPSTREAM_CRDS), AGENTPROMPT_CRD]) {
      const text = readFileSync(file, 'utf8');
      const group = /^ {2}group: (\S+)$/m.exec(text)?.[1];
      const kind = /^ {4}kind: (\S+)$/m.exec(text)?.[1];
      if (group === undefined || kind === undefined) throw new Error(`cannot read group/kind of CRD ${file}`);
      index.set(`${group}/${kind}`, file);
    }
  }
  return index;
}

/** The served version `group/version/Kind` of a CRD we validate against. */
export function crdSchema(apiVersion: string, kind: string): CrdVersionSchema | undefined {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return undefined;
  const file = crdIndex().get(`${apiVersion.slice(0, slash)}/${kind}`);
  if (file === undefined) return undefined;
  let versions = parsed.get(file);
  if (versions === undefined) {
    versions = crdVersions(file);
    parsed.set(file, versions);
  }
  return versions.find((v) => v.version === apiVersion.slice(slash + 1));
}

/** `group/Kind` of every CRD known here. */
export function knownCrdKinds(): string[] {
  return [...crdIndex().keys()];
}

export interface ObjectValidation {
  readonly problems: SchemaProblem[];
  /** Which schema was used: `crd:<group/version/kind>` or `k8s:<model>`. */
  readonly against: string;
  readonly celRulesSkipped: number;
}

/** Validates one object against its real schema; an object with no known schema is a problem itself. */
export function validateObject(object: K8sObject): ObjectValidation {
  const { apiVersion, kind } = object;
  const crd = crdSchema(apiVersion, kind);
  if (crd !== undefined) {
    // The API server validates metadata as ObjectMeta, not through the CRD's schema (which may still require it).
    const { metadata, ...rest } = object;
    const result = validateStructural(crd.schema, { ...rest, metadata: {} });
    const problems = [...validateAgainstModel('V1ObjectMeta', metadata, 'metadata'), ...result.problems];
    if (crd.scope === 'Cluster' && metadata.namespace !== undefined) {
      problems.push({ path: 'metadata.namespace', message: `${kind} is cluster-scoped` });
    }
    return { problems, against: `crd:${apiVersion}/${kind}`, celRulesSkipped: result.celRulesSkipped };
  }
  const builtin = validateBuiltin(object);
  if (builtin !== undefined)
    return { problems: builtin, against: `k8s:${apiVersion}/${kind}`, celRulesSkipped: 0 };
  return {
    problems: [{ path: '(root)', message: `no schema known for ${apiVersion} ${kind}` }],
    against: 'none',
    celRulesSkipped: 0,
  };
}
