import type { AnalysisResult, IncidentSummary, PolicyDecision } from '../../src/agents/contracts.ts';
import { ActionKind } from '../../src/agents/contracts.ts';

export function incident(
  over: Partial<IncidentSummary> = {},
  workload: Partial<IncidentSummary['workload']> = {},
): IncidentSummary {
  return {
    id: 'inc-0001',
    severity: 'high',
    status: 'open',
    traceId: '0af7651916cd43dd8448eb211c80319c',
    signals: [],
    workload: {
      key: 'k8s:shop/web-7d9c-abcde',
      kind: 'pod',
      host: 'node-1',
      namespace: 'shop',
      pod: 'web-7d9c-abcde',
      container: 'web',
      image: 'registry.example.com/shop/web:1.4.2',
      ...workload,
    },
    ...over,
  };
}

export function analysis(over: Partial<AnalysisResult> = {}): AnalysisResult {
  return {
    verdict: 'true_positive',
    confidence: 0.95,
    severity: 'high',
    techniques: [{ id: 'T1059', name: 'Command and Scripting Interpreter', tactic: 'execution' }],
    explanation: 'A shell was spawned in the web container (event e1).',
    citedEventIds: ['e1'],
    recommendedActions: [...ActionKind.options],
    analyst: 'offline',
    ...over,
  };
}

export function allow(approvalsRequired = 0): PolicyDecision {
  return {
    allowed: true,
    requiresApproval: approvalsRequired > 0,
    approvalsRequired,
    reasons: ['test decision'],
    bundleRevision: 'test',
    inputDigest: '0'.repeat(64),
  };
}

export function pod(
  name = 'web-7d9c-abcde',
  namespace = 'shop',
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'web', 'falconer.dev/status': 'old' }, ...extra },
    spec: { containers: [{ name: 'web', image: 'registry.example.com/shop/web:1.4.2' }] },
    status: { phase: 'Running' },
  };
}
