/** Public types of the scenario generator. */
import type { FieldValue, Priority } from '../events/types.ts';

export const ATTACK_KINDS = [
  'reverse_shell',
  'cryptominer',
  'credential_access',
  'container_escape',
  'lateral_movement',
  'exfiltration',
] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

/** A Falco alert exactly as Falco's json_output writes it (keys in Falco's order). */
export interface FalcoAlertJson {
  hostname: string;
  output: string;
  output_fields: Record<string, FieldValue>;
  priority: Priority;
  rule: string;
  source: string;
  tags: readonly string[];
  time: string;
}

/** Ground truth for one alert line; lives in the sidecar file, never in the alert. */
export interface ScenarioLabel {
  /** 1-based line number of the alert in the NDJSON stream. */
  line: number;
  label: 'benign' | 'attack';
  kind: AttackKind | null;
  /** MITRE ATT&CK technique id of the attack. */
  technique: string | null;
  attackId: string | null;
}

export interface ScenarioEvent {
  alert: FalcoAlertJson;
  label: ScenarioLabel;
}

export interface ScenarioOptions {
  seed: number;
  /** Duration in minutes (default 60). */
  minutes?: number;
  /** Mean background alerts per second over the scenario (default 200). */
  rate?: number;
  /** Start instant (default: derived from the seed, see defaultStart). */
  start?: Date;
}

export interface WorkloadRef {
  namespace: string;
  workload: string;
  pod: string;
  container: string;
  containerId: string;
  image: string;
  node: string;
}

export interface AttackManifestEntry {
  id: string;
  kind: AttackKind;
  technique: string;
  techniqueName: string;
  /** Which playbook of the kind (e.g. "imds" for credential access through the metadata endpoint). */
  variant: string;
  /** The workload the attack starts from. */
  workload: WorkloadRef;
  /** First and last alert of the attack (RFC 3339, ns). */
  start: string;
  end: string;
  events: number;
  /** Distinct rule names the attack fires, in order of first appearance. */
  rules: string[];
}
