/**
 * The authorization table of docs/agents.md, as data, and a pure decision.
 * Anything not in the table is refused.
 */
import type { AgentName, PeerName } from '../agents/contracts.ts';
import type { PeerIdentity } from './identity.ts';

export interface SkillGrant {
  readonly agent: AgentName;
  readonly skill: string;
  readonly callers: readonly PeerName[];
}

/** docs/agents.md "Skills and who may call them". Keep the two in step. */
export const AUTHORIZATION_TABLE: readonly SkillGrant[] = Object.freeze([
  { agent: 'coordinator', skill: 'signal.report', callers: ['detect'] },
  { agent: 'coordinator', skill: 'analysis.report', callers: ['analyse'] },
  { agent: 'analyse', skill: 'incident.analyse', callers: ['coordinator'] },
  { agent: 'remediate', skill: 'actions.propose', callers: ['coordinator'] },
  { agent: 'remediate', skill: 'actions.execute', callers: ['coordinator'] },
  { agent: 'remediate', skill: 'actions.rollback', callers: ['coordinator'] },
  { agent: 'notify', skill: 'incident.notify', callers: ['coordinator'] },
  { agent: 'detect', skill: 'model.feedback', callers: ['coordinator'] },
  { agent: 'detect', skill: 'events.query', callers: ['analyse', 'coordinator'] },
  { agent: 'detect', skill: 'rules.propose', callers: ['coordinator'] },
  { agent: 'detect', skill: 'rules.apply', callers: ['coordinator'] },
  { agent: 'detect', skill: 'events.search', callers: ['mcp'] },
  { agent: 'detect', skill: 'events.baseline', callers: ['mcp'] },
  { agent: 'detect', skill: 'rules.backtest', callers: ['mcp'] },
  { agent: 'coordinator', skill: 'incident.get', callers: ['mcp'] },
] satisfies SkillGrant[]);

export type AuthzDecision =
  { readonly allowed: true; readonly reason: string } | { readonly allowed: false; readonly reason: string };

/** May `caller` call `skill` on `agent`? Pure; the reason is safe to show to the caller. */
export function authorize(
  caller: PeerIdentity | undefined,
  agent: AgentName,
  skill: string,
  table: readonly SkillGrant[] = AUTHORIZATION_TABLE,
): AuthzDecision {
  if (caller === undefined) return { allowed: false, reason: 'no authenticated caller identity' };
  if (caller.agent === undefined) {
    return {
      allowed: false,
      reason: `caller ${caller.spiffeId} is not a Falconer agent of this trust domain and namespace`,
    };
  }
  const grant = table.find((g) => g.agent === agent && g.skill === skill);
  if (grant === undefined)
    return { allowed: false, reason: `agent ${agent} has no skill ${skill} in the authorization table` };
  if (!grant.callers.includes(caller.agent)) {
    return {
      allowed: false,
      reason: `${caller.agent} (${caller.spiffeId}) may not call ${agent}/${skill}; allowed callers: ${grant.callers.join(', ')}`,
    };
  }
  return { allowed: true, reason: `${caller.agent} may call ${agent}/${skill}` };
}

/** The skills an agent offers according to the table (for cards and tests). */
export function skillsOf(agent: AgentName, table: readonly SkillGrant[] = AUTHORIZATION_TABLE): string[] {
  return table.filter((g) => g.agent === agent).map((g) => g.skill);
}
