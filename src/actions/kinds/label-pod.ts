import { z } from 'zod';
import type { Action } from '../types.ts';
import { LABEL_INCIDENT, LABEL_STATUS, commonParams, namespaceOf, podName } from './common.ts';
import { labelValue } from '../names.ts';

const params = z.strictObject({
  ...commonParams,
  /** The value of falconer.dev/status; the key set is fixed, so nothing attacker-controlled becomes a key. */
  status: z.enum(['suspicious', 'compromised', 'under-investigation']).default('suspicious'),
});
type Params = z.infer<typeof params>;

export const labelPod: Action<Params> = {
  kind: 'label-pod',
  destructive: false,
  description: 'Label the pod with the incident id and a status, so people and policies can select it.',
  needs: ['pod'],
  params,
  podsAffected: () => 1,
  render(target, p) {
    return [
      {
        verb: 'merge-patch',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: podName(target),
            namespace: namespaceOf(target),
            labels: { [LABEL_INCIDENT]: labelValue(p.incidentId), [LABEL_STATUS]: p.status },
          },
        },
      },
    ];
  },
};
