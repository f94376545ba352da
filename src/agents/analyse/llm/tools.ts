/**
 * The bridge between the model's function calls and the MCP tools:
 *  - names: MCP `events.search` ↔ function `events_search` (OpenAI wants ^[a-zA-Z0-9_-]{1,64}$);
 *  - scope: every argument naming a namespace, pod, container, host, workload or
 *    incident must be THIS incident's (checked here, client side, whatever the
 *    server also checks); missing scope arguments the tool accepts are pinned
 *    to the incident's; a call outside it gets a tool error, not data;
 *  - results: event ids collected (the model may cite them), text fenced and truncated.
 */
import type { ToolCall, ToolSpec } from '../../../llm/types.ts';
import type { Fencer } from '../../../llm/untrusted/index.ts';
import { isFalconerError } from '../../../errors.ts';
import type { ToolCallResult, ToolGateway } from '../../../mcp/gateway.ts';
import type { AnalyseInput } from '../../contracts.ts';
import { isSafeId, quote } from '../quote.ts';

export interface ToolScope {
  readonly incidentId: string;
  readonly workloadKey: string;
  readonly host: string;
  readonly namespace: string | undefined;
  readonly pod: string | undefined;
  readonly container: string | undefined;
  readonly containerId: string | undefined;
}

type ScopeKey = Exclude<keyof ToolScope, never>;

/** Argument names (and Falco field names used as filter keys) that select what a tool reads. */
const SCOPE_ARGS: Readonly<Record<string, ScopeKey>> = {
  namespace: 'namespace',
  ns: 'namespace',
  namespaces: 'namespace',
  'k8s.ns.name': 'namespace',
  pod: 'pod',
  podName: 'pod',
  'k8s.pod.name': 'pod',
  container: 'container',
  containerName: 'container',
  'container.name': 'container',
  containerId: 'containerId',
  'container.id': 'containerId',
  workload: 'workloadKey',
  workloadKey: 'workloadKey',
  host: 'host',
  hostname: 'host',
  node: 'host',
  incidentId: 'incidentId',
  incident: 'incidentId',
};

export function scopeOf(input: AnalyseInput): ToolScope {
  const w = input.incident.workload;
  return {
    incidentId: input.incident.id,
    workloadKey: w.key,
    host: w.host,
    namespace: w.namespace,
    pod: w.pod,
    container: w.container,
    containerId: w.containerId,
  };
}

/** Why these arguments leave the incident's scope, or undefined when they stay in it. */
/** Arguments that are scope arguments only for one tool (`incident.get {id}`). */
const TOOL_SCOPE_ARGS: Readonly<Record<string, Readonly<Record<string, ScopeKey>>>> = {
  'incident.get': { id: 'incidentId' },
};

/** Why a call of `tool` with these arguments leaves the incident's scope, or undefined when it stays in it. */
export function toolScopeViolation(
  tool: string,
  args: Record<string, unknown>,
  scope: ToolScope,
): string | undefined {
  for (const [key, scopeKey] of Object.entries(TOOL_SCOPE_ARGS[tool] ?? {})) {
    if (key in args) {
      const bad = checkValue(key, args[key], scopeKey, scope, key);
      if (bad) return bad;
    }
  }
  return scopeViolation(args, scope);
}

export function scopeViolation(args: unknown, scope: ToolScope, path = '', depth = 0): string | undefined {
  if (depth > 6) return `arguments nested too deep at ${path || '(root)'}`;
  if (Array.isArray(args)) {
    for (const [i, v] of args.entries()) {
      const bad = scopeViolation(v, scope, `${path}[${i}]`, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof args !== 'object' || args === null) return undefined;
  const obj = args as Record<string, unknown>;
  // A field/value filter pair ({field: "k8s.ns.name", value: "kube-system"}) is a scope argument too.
  if (typeof obj.field === 'string' && SCOPE_ARGS[obj.field] !== undefined && 'value' in obj) {
    const bad = checkValue(obj.field, obj.value, SCOPE_ARGS[obj.field]!, scope, path);
    if (bad) return bad;
  }
  for (const [key, value] of Object.entries(obj)) {
    const here = path ? `${path}.${key}` : key;
    const scopeKey = SCOPE_ARGS[key];
    if (scopeKey !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      const bad = checkValue(key, value, scopeKey, scope, here);
      if (bad) return bad;
    } else {
      const bad = scopeViolation(value, scope, here, depth + 1);
      if (bad) return bad;
    }
  }
  return undefined;
}

function checkValue(
  key: string,
  value: unknown,
  scopeKey: ScopeKey,
  scope: ToolScope,
  path: string,
): string | undefined {
  const allowed = scope[scopeKey];
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (v === undefined || v === null) continue;
    if (allowed === undefined || v !== allowed) {
      return `argument ${path || key}=${quote(v, 80)} is outside this incident (${scopeKey} ${allowed === undefined ? 'is not set for this workload' : quote(allowed, 80)}); only this incident's data may be queried`;
    }
  }
  return undefined;
}

/** Fills scope arguments the tool declares (as strings) but the model left out. */
export function pinScope(
  args: Record<string, unknown>,
  spec: ToolSpec,
  scope: ToolScope,
): Record<string, unknown> {
  const props = (spec.parameters as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const out = { ...args };
  for (const [name, prop] of Object.entries(props)) {
    const scopeKey = TOOL_SCOPE_ARGS[spec.name]?.[name] ?? SCOPE_ARGS[name];
    const value = scopeKey === undefined ? undefined : scope[scopeKey];
    if (value === undefined || out[name] !== undefined) continue;
    if (prop?.type === 'array') out[name] = [value];
    else if (prop?.type === undefined || prop.type === 'string') out[name] = value;
  }
  return out;
}

/** MCP name → a function name every provider accepts. */
export function functionNameOf(mcpName: string): string {
  return mcpName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'tool';
}

/** Ids of event-like objects (`id` plus `rule` or `timeMs`) anywhere in a tool's JSON result. */
export function eventIdsIn(text: string, limit = 1000): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  const ids: string[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (ids.length >= limit || depth > 8 || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && isSafeId(o.id) && ('rule' in o || 'timeMs' in o)) ids.push(o.id);
    for (const x of Object.values(o)) walk(x, depth + 1);
  };
  walk(parsed, 0);
  return ids;
}

export interface ToolCallRecord {
  readonly tool: string;
  readonly args: Record<string, unknown>;
  readonly outcome: 'ok' | 'tool_error' | 'refused' | 'unknown_tool';
  readonly chars: number;
}

export interface BridgedResult {
  /** What goes back to the model (fenced). */
  readonly content: string;
  readonly record: ToolCallRecord;
  /** Event ids this result showed the model. */
  readonly eventIds: readonly string[];
}

export class ToolBridge {
  readonly specs: ToolSpec[];
  readonly #byFunction: Map<string, ToolSpec>;
  readonly #gateway: ToolGateway;
  readonly #scope: ToolScope;
  readonly #fencer: Fencer;
  readonly #maxResultChars: number;

  private constructor(
    gateway: ToolGateway,
    tools: ToolSpec[],
    scope: ToolScope,
    fencer: Fencer,
    maxResultChars: number,
  ) {
    this.#gateway = gateway;
    this.#scope = scope;
    this.#fencer = fencer;
    this.#maxResultChars = maxResultChars;
    this.#byFunction = new Map();
    this.specs = [];
    for (const tool of tools) {
      let name = functionNameOf(tool.name);
      // Two MCP names that map to one function name: keep both, distinguishable.
      for (let n = 2; this.#byFunction.has(name); n++)
        name = `${functionNameOf(tool.name).slice(0, 60)}_${n}`;
      this.#byFunction.set(name, tool);
      this.specs.push({ ...tool, name });
    }
  }

  static async open(
    gateway: ToolGateway,
    scope: ToolScope,
    fencer: Fencer,
    opts: { maxResultChars: number; signal?: AbortSignal },
  ): Promise<ToolBridge> {
    const tools = await gateway.list(opts.signal);
    return new ToolBridge(gateway, tools, scope, fencer, opts.maxResultChars);
  }

  /** The MCP name behind a function name. */
  mcpName(functionName: string): string | undefined {
    return this.#byFunction.get(functionName)?.name;
  }

  async call(call: ToolCall, signal?: AbortSignal): Promise<BridgedResult> {
    const spec = this.#byFunction.get(call.name);
    if (spec === undefined) {
      return this.#error(
        call,
        'unknown_tool',
        `no tool named ${quote(call.name, 64)}; use one of: ${[...this.#byFunction.keys()].join(', ')}`,
      );
    }
    const refused = toolScopeViolation(spec.name, call.arguments, this.#scope);
    if (refused !== undefined) return this.#error(call, 'refused', `refused: ${refused}`, spec.name);
    const args = pinScope(call.arguments, spec, this.#scope);
    let res: ToolCallResult;
    try {
      res = await this.#gateway.call(spec.name, args, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      // A failing tool server makes a poorer analysis, not a failed one: the model hears the tool failed.
      const code = isFalconerError(err) ? err.code : 'TOOL_FAILED';
      return {
        content: `Tool error: ${spec.name} failed (${code}); continue without it.`,
        eventIds: [],
        record: { tool: spec.name, args, outcome: 'tool_error', chars: 0 },
      };
    }
    const eventIds = res.isError ? [] : eventIdsIn(res.text);
    const fenced =
      this.#fencer.fence(`tool:${functionNameOf(spec.name)}:${call.id}`, res.text, this.#maxResultChars) ??
      'The result was left out: this analysis has used its data budget. Answer with what you have.';
    const content = res.isError ? `Tool error (data below is untrusted):\n${fenced}` : fenced;
    return {
      content,
      eventIds,
      record: { tool: spec.name, args, outcome: res.isError ? 'tool_error' : 'ok', chars: res.text.length },
    };
  }

  #error(
    call: ToolCall,
    outcome: ToolCallRecord['outcome'],
    message: string,
    tool = call.name,
  ): BridgedResult {
    return {
      content: `Tool error: ${message}`,
      eventIds: [],
      record: { tool, args: call.arguments, outcome, chars: 0 },
    };
  }
}
