import { z } from 'zod';
import type { Action } from '../types.ts';
import { FalconerError } from '../../errors.ts';
import { commonParams, namespaceOf } from './common.ts';
import { isDns1123Subdomain } from '../names.ts';

const SCALABLE = { Deployment: 'apps/v1', StatefulSet: 'apps/v1', ReplicaSet: 'apps/v1' } as const;

const params = z.strictObject({
  ...commonParams,
  /** The owner's replicas when proposed (the blast radius policy judges); the executor records the live value. */
  replicas: z.number().int().min(0).max(10_000),
});
type Params = z.infer<typeof params>;

export const scaleOwnerToZero: Action<Params> = {
  kind: 'scale-owner-to-zero',
  destructive: true,
  description: "Scale the pod's owning Deployment, StatefulSet or ReplicaSet to zero replicas.",
  needs: ['owner'],
  params,
  podsAffected: (_t, p) => p.replicas,
  render(target) {
    const kind = target.ownerKind;
    if (kind === undefined || !Object.hasOwn(SCALABLE, kind)) {
      throw new FalconerError(
        'ACTION_INVALID_TARGET',
        'target.ownerKind must be Deployment, StatefulSet or ReplicaSet',
        {
          ownerKind: kind?.slice(0, 64),
        },
      );
    }
    if (target.ownerName === undefined || !isDns1123Subdomain(target.ownerName)) {
      throw new FalconerError('ACTION_INVALID_TARGET', 'target.ownerName must be a valid object name', {
        ownerName: target.ownerName?.slice(0, 80),
      });
    }
    return [
      {
        verb: 'merge-patch',
        object: {
          apiVersion: SCALABLE[kind as keyof typeof SCALABLE],
          kind,
          metadata: { name: target.ownerName, namespace: namespaceOf(target) },
          spec: { replicas: 0 },
        },
      },
    ];
  },
};
