import { z } from 'zod';
import type { Action } from '../types.ts';
import { ANNOTATION_INCIDENT, commonParams, namespaceOf, podName } from './common.ts';
import { annotationValue } from '../names.ts';

const params = z.strictObject({
  ...commonParams,
  /** Free text (may quote event data): it is only ever an annotation value, capped in size. */
  note: z.string().max(4096).default(''),
  severity: z.enum(['low', 'medium', 'high', 'critical']).optional(),
});
type Params = z.infer<typeof params>;

export const annotatePod: Action<Params> = {
  kind: 'annotate-pod',
  destructive: false,
  description: 'Annotate the pod with the incident id, severity and a note.',
  needs: ['pod'],
  params,
  podsAffected: () => 1,
  render(target, p) {
    const annotations: Record<string, string> = { [ANNOTATION_INCIDENT]: annotationValue(p.incidentId, 200) };
    if (p.severity !== undefined) annotations['falconer.dev/severity'] = p.severity;
    if (p.note.length > 0) annotations['falconer.dev/note'] = annotationValue(p.note);
    return [
      {
        verb: 'merge-patch',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: podName(target), namespace: namespaceOf(target), annotations },
        },
      },
    ];
  },
};
