import { z } from 'zod';
import type { Action } from '../types.ts';
import { FalconerError } from '../../errors.ts';
import { commonParams, managedLabels } from './common.ts';
import { annotationValue, dnsLabel, isImageReference } from '../names.ts';

const params = z.strictObject({ ...commonParams });
type Params = z.infer<typeof params>;

/**
 * A Kyverno ClusterPolicy that refuses new pods using the image. The image is
 * checked against the OCI reference grammar first, so it cannot carry
 * Kyverno wildcards or `{{ }}` variables; it only ever appears as a value.
 */
export const blockImage: Action<Params> = {
  kind: 'block-image',
  destructive: true,
  description: 'Refuse new pods that use the image, cluster-wide (Kyverno ClusterPolicy).',
  needs: ['image'],
  params,
  podsAffected: () => null,
  render(target, p) {
    const image = target.image;
    if (image === undefined || !isImageReference(image)) {
      throw new FalconerError('ACTION_INVALID_TARGET', 'target.image must be a plain OCI image reference', {
        image: image?.slice(0, 120),
      });
    }
    return [
      {
        verb: 'create',
        object: {
          apiVersion: 'kyverno.io/v1',
          kind: 'ClusterPolicy',
          metadata: {
            name: dnsLabel('falconer-block-image', image, 63),
            labels: managedLabels(p.incidentId),
            annotations: {
              'falconer.dev/image': image,
              'falconer.dev/incident': annotationValue(p.incidentId, 200),
              'policies.kyverno.io/title': 'Falconer: blocked image',
              'policies.kyverno.io/description': 'Refuses pods using an image that an incident implicated.',
            },
          },
          spec: {
            background: false,
            rules: [
              {
                name: 'deny-blocked-image',
                match: { any: [{ resources: { kinds: ['Pod'], operations: ['CREATE'] } }] },
                validate: {
                  failureAction: 'Enforce',
                  message: 'This image is blocked by Falconer after a security incident.',
                  deny: {
                    conditions: {
                      any: [
                        {
                          key: '{{ request.object.spec.[containers, initContainers, ephemeralContainers][].image }}',
                          operator: 'AnyIn',
                          value: [image],
                        },
                      ],
                    },
                  },
                },
              },
            ],
          },
        },
      },
    ];
  },
};
