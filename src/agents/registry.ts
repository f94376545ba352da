/**
 * One factory per agent, looked up by name: `falconer agent <name>` and
 * `falconer up` start agents through this table, never a switch.
 */
import { createAnalyseAgent } from './analyse/agent.ts';
import type { AgentName } from './contracts.ts';
import { createCoordinatorAgent } from './coordinator/agent.ts';
import { createDetectAgent } from './detect/agent.ts';
import { createNotifyAgent } from './notify/agent.ts';
import { createRemediateAgent } from './remediate/agent.ts';
import type { AgentFactory } from './runtime.ts';

export const AGENT_FACTORIES: Readonly<Record<AgentName, AgentFactory>> = {
  detect: createDetectAgent,
  coordinator: createCoordinatorAgent,
  analyse: createAnalyseAgent,
  remediate: createRemediateAgent,
  notify: createNotifyAgent,
};
