import { z } from 'zod';
import type { ActionTarget } from '../../agents/contracts.ts';
import { FalconerError } from '../../errors.ts';
import '../errors.ts';
import { isDns1123Subdomain, labelValue } from '../names.ts';

export const FALCONER_GROUP = 'falconer.dev';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_INCIDENT = 'falconer.dev/incident';
export const LABEL_QUARANTINE = 'falconer.dev/quarantine';
export const LABEL_STATUS = 'falconer.dev/status';
export const ANNOTATION_INCIDENT = 'falconer.dev/incident';
export const ANNOTATION_ACTION = 'falconer.dev/action';

export const commonParams = {
  incidentId: z.string().min(1).max(200),
  at: z.number().int().nonnegative(),
};

/** The pod's name, checked: an object name must already be valid, we do not guess another pod. */
export function podName(target: ActionTarget): string {
  if (target.pod === undefined || !isDns1123Subdomain(target.pod)) {
    throw new FalconerError(
      'ACTION_INVALID_TARGET',
      'target.pod must be a valid pod name (DNS-1123 subdomain)',
      {
        pod: target.pod?.slice(0, 80),
      },
    );
  }
  return target.pod;
}

export function namespaceOf(target: ActionTarget): string {
  if (!isDns1123Subdomain(target.namespace) || target.namespace.length > 63) {
    throw new FalconerError(
      'ACTION_INVALID_TARGET',
      'target.namespace must be a valid namespace name (DNS-1123 label)',
      {
        namespace: target.namespace.slice(0, 80),
      },
    );
  }
  return target.namespace;
}

/** Labels Falconer puts on every object it creates, so they can be found and cleaned up. */
export function managedLabels(incidentId: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: 'falconer', [LABEL_INCIDENT]: labelValue(incidentId) };
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
