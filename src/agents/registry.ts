/**
 * One factory per agent, looked up by name: `falconer agent <name>` and
 * `falconer up` start agents through this table, never a switch. Each entry
 * loads its agent's code on demand, so a process only pays for the agent it
 * runs (the Kubernetes client is remediate's, the Kafka client detect's).
 */
import type { AgentName } from './contracts.ts';
import type { AgentFactory } from './runtime.ts';

export const AGENT_FACTORIES: Readonly<Record<AgentName, () => Promise<AgentFactory>>> = {
  detect: async () => (await import('./detect/agent.ts')).createDetectAgent,
  coordinator: async () => (await import('./coordinator/agent.ts')).createCoordinatorAgent,
  analyse: async () => (await import('./analyse/agent.ts')).createAnalyseAgent,
  remediate: async () => (await import('./remediate/agent.ts')).createRemediateAgent,
  notify: async () => (await import('./notify/agent.ts')).createNotifyAgent,
};
