import { z } from 'zod';
import type { Action } from '../types.ts';
import { commonParams, namespaceOf, podName } from './common.ts';

const params = z.strictObject({ ...commonParams });
type Params = z.infer<typeof params>;

export const deletePod: Action<Params> = {
  kind: 'delete-pod',
  destructive: true,
  description: 'Delete the pod (its controller, if any, starts a fresh one).',
  needs: ['pod'],
  params,
  podsAffected: () => 1,
  render(target) {
    return [
      {
        verb: 'delete',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: podName(target), namespace: namespaceOf(target) },
        },
      },
    ];
  },
};
