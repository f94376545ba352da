/**
 * The Falco Helm chart's way to add rules: `customRules` values (the chart
 * mounts each key as a file under /etc/falco/rules.d) and, for clusters that
 * manage the ConfigMap themselves, the equivalent v1 ConfigMap. Pure renderers.
 */
import { stringify } from 'yaml';

export const RULES_FILE_NAME = 'falconer_rules.yaml';

/** The values snippet: `customRules: {falconer_rules.yaml: <text>}`. */
export function renderHelmCustomRules(rulesFileText: string): string {
  return stringify({ customRules: { [RULES_FILE_NAME]: rulesFileText } }, { lineWidth: 0 });
}

export interface ConfigMapOptions {
  name?: string;
  namespace?: string;
}

export interface RulesConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  data: Record<string, string>;
}

export function rulesConfigMap(rulesFileText: string, opts: ConfigMapOptions = {}): RulesConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: opts.name ?? 'falconer-rules',
      namespace: opts.namespace ?? 'falco',
      labels: { 'app.kubernetes.io/managed-by': 'falconer', 'app.kubernetes.io/part-of': 'falco' },
    },
    data: { [RULES_FILE_NAME]: rulesFileText },
  };
}

export function renderConfigMap(rulesFileText: string, opts: ConfigMapOptions = {}): string {
  return stringify(rulesConfigMap(rulesFileText, opts), { lineWidth: 0 });
}
