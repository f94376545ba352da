/** `helm template` of the Falconer chart, parsed into objects. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { PROJECT_ROOT } from '../support/paths.ts';
import type { K8sObject } from './schemas.ts';
import { runTool } from './tools.ts';

export const CHART_DIR = join(PROJECT_ROOT, 'deploy/helm/falconer');
export const RELEASE = 'falconer';
export const NAMESPACE = 'falconer-system';
/** The Kubernetes version helm renders for (the chart needs >= 1.27; client-node's models are 1.34). */
export const KUBE_VERSION = '1.34.0';

export interface Rendered {
  readonly objects: K8sObject[];
  readonly text: string;
}

/** Renders the chart with extra values (merged over values.yaml); throws with helm's message on failure. */
export function renderChart(helm: string, values: Record<string, unknown> = {}): Rendered {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-helm-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(values));
    const run = runTool(helm, [
      'template',
      RELEASE,
      CHART_DIR,
      '--namespace',
      NAMESPACE,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      file,
    ]);
    if (run.status !== 0) throw new Error(`helm template failed (${run.status}): ${run.stderr.trim()}`);
    const objects: K8sObject[] = [];
    for (const doc of parseAllDocuments(run.stdout)) {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as K8sObject | null;
      if (value !== null) objects.push(value);
    }
    return { objects, text: run.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Renders and expects failure; returns helm's error output. */
export function renderChartError(helm: string, values: Record<string, unknown>): string {
  try {
    renderChart(helm, values);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected helm template to fail');
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} rendered`);
  return found;
}

export function ofKind(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}
