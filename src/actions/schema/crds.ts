/** Loads real CustomResourceDefinitions (../shared/data/crds) and validates objects against them. */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { FalconerError } from '../../errors.ts';
import '../errors.ts';
import type { JsonSchema } from './openapi.ts';

export interface CrdVersionSchema {
  group: string;
  version: string;
  kind: string;
  scope: 'Namespaced' | 'Cluster';
  schema: JsonSchema;
}

/** The default CRD folder: shared/ sits beside the repository (also in CI). */
export const DEFAULT_CRD_DIR = new URL('../../../../shared/data/crds/', import.meta.url).pathname;

/** The CRDs of the kinds the action catalogue renders. */
export const ACTION_CRD_FILES = [
  'cilium/ciliumnetworkpolicies.yaml',
  'kyverno/kyverno.io_clusterpolicies.yaml',
];

/**
 * Parsing a 1.4 MB CRD with the yaml package takes seconds, so the parsed
 * documents are cached as JSON under ~/.cache/falconer, keyed by the file's
 * content hash (a changed file is parsed again).
 */
function parseCached(file: string): unknown[] {
  const text = readFileSync(file, 'utf8');
  const digest = createHash('sha256').update(text).digest('hex');
  const cacheDir = join(process.env.FALCONER_CACHE ?? join(homedir(), '.cache', 'falconer'), 'crd-json');
  const cached = join(cacheDir, `${digest}.json`);
  try {
    return JSON.parse(readFileSync(cached, 'utf8')) as unknown[];
  } catch {
    // Not cached yet (or unreadable): parse and try to cache.
  }
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as unknown);
  try {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(docs));
    renameSync(tmp, cached);
  } catch {
    // A read-only home only costs speed.
  }
  return docs;
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

interface CrdDoc {
  kind?: string;
  spec?: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string };
    versions: Array<{ name: string; schema?: { openAPIV3Schema?: JsonSchema } }>;
  };
}

export class CrdCatalog {
  private readonly byKey = new Map<string, CrdVersionSchema>();

  /** Loads the CRDs under `dir` (only `only`, paths relative to dir, when given). */
  static load(dir: string = DEFAULT_CRD_DIR, only?: readonly string[]): CrdCatalog {
    const catalog = new CrdCatalog();
    let files: string[];
    try {
      files = yamlFiles(dir);
    } catch (err) {
      throw new FalconerError('IO_ERROR', `cannot read the CRD folder ${dir}`, { dir }, { cause: err });
    }
    if (only !== undefined) {
      files = files.filter((f) => only.includes(relative(dir, f)));
      const missing = only.filter((o) => !files.some((f) => relative(dir, f) === o));
      if (missing.length > 0)
        throw new FalconerError('IO_ERROR', `CRD files missing in ${dir}: ${missing.join(', ')}`, {
          dir,
          missing,
        });
    }
    for (const file of files) {
      for (const doc of parseCached(file)) {
        const crd = doc as CrdDoc | null;
        if (crd?.kind !== 'CustomResourceDefinition' || crd.spec === undefined) continue;
        for (const v of crd.spec.versions) {
          const schema = v.schema?.openAPIV3Schema;
          if (schema === undefined) continue;
          catalog.add({
            group: crd.spec.group,
            version: v.name,
            kind: crd.spec.names.kind,
            scope: crd.spec.scope,
            schema,
          });
        }
      }
    }
    return catalog;
  }

  add(entry: CrdVersionSchema): void {
    this.byKey.set(`${entry.group}/${entry.version}/${entry.kind}`, entry);
  }

  get(apiVersion: string, kind: string): CrdVersionSchema | undefined {
    return this.byKey.get(`${apiVersion}/${kind}`);
  }

  kinds(): string[] {
    return [...this.byKey.keys()];
  }
}
