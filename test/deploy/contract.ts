/** docs/agents.md, read as data: the ports table, the edges and the authorization table. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/paths.ts';

export const AGENTS = ['detect', 'coordinator', 'analyse', 'remediate', 'notify'] as const;
export type AgentName = (typeof AGENTS)[number];
/** Every workload with a SPIFFE identity: the agents plus the MCP tool server, which calls A2A but serves MCP. */
export const WORKLOADS = [...AGENTS, 'mcp'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

const doc = readFileSync(join(PROJECT_ROOT, 'docs/agents.md'), 'utf8');

function section(title: string): string {
  const start = doc.indexOf(`## ${title}`);
  if (start < 0) throw new Error(`docs/agents.md has no section "${title}"`);
  const end = doc.indexOf('\n## ', start + 3);
  return doc.slice(start, end < 0 ? undefined : end);
}

const isAgent = (s: string): s is AgentName => (AGENTS as readonly string[]).includes(s);
const isWorkload = (s: string): s is WorkloadName => (WORKLOADS as readonly string[]).includes(s);

export interface AgentPorts {
  readonly a2a: number;
  readonly ops: number;
  readonly ingest?: number;
  readonly hitl?: number;
}

/** The "Processes and ports" table. */
export function contractPorts(): Record<AgentName, AgentPorts> {
  const out: Partial<Record<AgentName, AgentPorts>> = {};
  for (const line of section('Processes and ports').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const agent = cells[1] ?? '';
    if (!isAgent(agent)) continue;
    const other = cells[4] ?? '';
    out[agent] = {
      a2a: Number(cells[2]),
      ops: Number(cells[3]),
      ...(/ingest (\d+)/.exec(other) ? { ingest: Number(/ingest (\d+)/.exec(other)![1]) } : {}),
      ...(/HITL API (\d+)/.exec(other) ? { hitl: Number(/HITL API (\d+)/.exec(other)![1]) } : {}),
    };
  }
  return out as Record<AgentName, AgentPorts>;
}

/** The mcp row of the "Processes and ports" table: the MCP (HTTP) port and the ops port. */
export function contractMcpPorts(): { readonly http: number; readonly ops: number } {
  for (const line of section('Processes and ports').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells[1] !== 'mcp') continue;
    const http = /MCP (\d+)/.exec(cells[4] ?? '');
    if (http === null) break;
    return { http: Number(http[1]), ops: Number(cells[3]) };
  }
  throw new Error('docs/agents.md has no mcp row with "MCP <port>" in "Processes and ports"');
}

/**
 * Workload-to-workload edges of the "Edges" section, as "caller->callee"
 * strings: the A2A edges between agents, mcp's A2A calls, and analyse->mcp
 * (MCP on mcp's HTTP port).
 */
export function contractEdges(): Set<string> {
  const text = section('Edges (network policy)').split('\n').slice(1).join(' ');
  const edges = new Set<string>();
  for (const clause of text.split(';')) {
    const [from, to] = clause.split('→').map((s) => s.trim());
    if (from === undefined || to === undefined || !isWorkload(from)) continue;
    for (const callee of to.split(',').map((s) => s.trim().replace(/\.$/, ''))) {
      // "mcp (MCP on port 7700, not A2A)": the first word names the callee.
      const name = callee.split(' ')[0] ?? '';
      if (isWorkload(name)) edges.add(`${from}->${name}`);
    }
  }
  return edges;
}

/** Edges implied by the authorization table: caller->agent for every skill (callers include mcp). */
export function authorizationEdges(): Set<string> {
  const edges = new Set<string>();
  for (const line of section('Skills and who may call them (the authorization table)').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const agent = cells[1] ?? '';
    if (!isAgent(agent)) continue;
    for (const caller of (cells[3] ?? '').split(',').map((s) => s.trim())) {
      if (isWorkload(caller)) edges.add(`${caller}->${agent}`);
    }
  }
  return edges;
}
