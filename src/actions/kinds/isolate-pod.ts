import { z } from 'zod';
import type { Action, KubeObject } from '../types.ts';
import { LABEL_QUARANTINE, commonParams, managedLabels, namespaceOf, podName } from './common.ts';
import { dnsLabel, labelValue } from '../names.ts';

const params = z.strictObject({
  ...commonParams,
  /** cilium: a CiliumNetworkPolicy with deny rules (they win over any allow); kubernetes: a NetworkPolicy. */
  engine: z.enum(['cilium', 'kubernetes']).default('cilium'),
});
type Params = z.infer<typeof params>;

/**
 * Isolation first labels the pod with a quarantine label unique to this pod
 * and incident, then selects exactly that label: selecting the pod's own
 * labels would also cut off every sibling replica.
 */
export const isolatePod: Action<Params> = {
  kind: 'isolate-pod',
  destructive: false,
  description: 'Cut all ingress and egress of the pod with a deny-all network policy on a quarantine label.',
  needs: ['pod'],
  params,
  podsAffected: () => 1,
  render(target, p) {
    const pod = podName(target);
    const namespace = namespaceOf(target);
    const quarantine = labelValue(dnsLabel('q', `${p.incidentId}/${pod}`, 63));
    const name = dnsLabel('falconer-isolate', pod, 63);
    const selector = { matchLabels: { [LABEL_QUARANTINE]: quarantine } };
    const labels = managedLabels(p.incidentId);
    const annotations = { 'falconer.dev/pod': pod };
    const cilium: KubeObject = {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNetworkPolicy',
      metadata: { name, namespace, labels, annotations },
      spec: {
        description: 'Falconer quarantine: deny all ingress and egress of one pod',
        endpointSelector: selector,
        enableDefaultDeny: { ingress: true, egress: true },
        ingressDeny: [{ fromEntities: ['all'] }],
        egressDeny: [{ toEntities: ['all'] }],
      },
    };
    const kubernetes: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace, labels, annotations },
      // No rules with both policy types: nothing is allowed in or out (other allow policies still add up).
      spec: { podSelector: selector, policyTypes: ['Ingress', 'Egress'] },
    };
    return [
      {
        verb: 'merge-patch',
        object: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: pod, namespace, labels: { [LABEL_QUARANTINE]: quarantine } },
        },
      },
      p.engine === 'cilium'
        ? { verb: 'create', object: cilium, fallback: kubernetes }
        : { verb: 'create', object: kubernetes },
    ];
  },
};
