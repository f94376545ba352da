import { z } from 'zod';
import type { Action } from '../types.ts';
import { commonParams, isoTime, managedLabels, namespaceOf, podName } from './common.ts';
import { annotationValue, shortHash } from '../names.ts';

const params = z.strictObject({
  ...commonParams,
  /** Event reason: a fixed vocabulary (UpperCamelCase, as kubectl expects). */
  reason: z.enum(['SecurityIncident', 'SecurityIncidentResolved']).default('SecurityIncident'),
  message: z.string().max(4096).default(''),
});
type Params = z.infer<typeof params>;

export const emitEvent: Action<Params> = {
  kind: 'emit-event',
  destructive: false,
  description: 'Emit a Kubernetes Warning Event on the pod so `kubectl describe` shows the incident.',
  needs: ['pod'],
  params,
  podsAffected: () => 0,
  render(target, p) {
    const pod = podName(target);
    const namespace = namespaceOf(target);
    const time = isoTime(p.at);
    // Same shape as client-go's recorder: <object>.<unique suffix>.
    const name = `${pod.slice(0, 200)}.falconer-${shortHash(p.incidentId, p.reason, String(p.at))}`;
    return [
      {
        verb: 'create',
        object: {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace, labels: managedLabels(p.incidentId) },
          involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod, namespace },
          reason: p.reason,
          message: annotationValue(p.message.length > 0 ? p.message : `Falconer incident ${p.incidentId}`),
          type: 'Warning',
          source: { component: 'falconer-remediate' },
          reportingComponent: 'falconer.dev/remediate',
          reportingInstance: 'falconer-remediate',
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      },
    ];
  },
};
