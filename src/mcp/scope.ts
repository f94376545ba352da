/**
 * What one MCP credential may see: a name (for logs and audit), namespaces
 * (`*` = all) and optionally the tools it may call. Pure checks; a refusal is
 * a FalconerError whose code the tool error carries.
 */
import { FalconerError } from '../errors.ts';
import './errors.ts';

export interface McpScope {
  readonly name: string;
  /** Kubernetes namespaces; `*` means every namespace and data with no namespace (hosts, bare containers). */
  readonly namespaces: readonly string[];
  /** Tool names; absent = every tool. */
  readonly tools?: readonly string[];
}

export const FULL_SCOPE: McpScope = Object.freeze({ name: 'all', namespaces: ['*'] });

export function allNamespaces(scope: McpScope): boolean {
  return scope.namespaces.includes('*');
}

/** The namespace list to hand to a backend: undefined when the scope has them all. */
export function namespaceRestriction(scope: McpScope): string[] | undefined {
  return allNamespaces(scope) ? undefined : [...scope.namespaces];
}

export function toolAllowed(scope: McpScope, tool: string): boolean {
  return scope.tools === undefined || scope.tools.includes(tool);
}

export function assertTool(scope: McpScope, tool: string): void {
  if (!toolAllowed(scope, tool)) {
    throw new FalconerError('MCP_OUT_OF_SCOPE', `tool ${tool} is not in the scope of this credential`, {
      scope: scope.name,
      tool,
    });
  }
}

/** Data in `namespace` (undefined: a host or bare container) may be shown under this scope? */
export function namespaceAllowed(scope: McpScope, namespace: string | undefined): boolean {
  if (allNamespaces(scope)) return true;
  return namespace !== undefined && scope.namespaces.includes(namespace);
}

export function assertNamespace(scope: McpScope, namespace: string | undefined, what: string): void {
  if (!namespaceAllowed(scope, namespace)) {
    throw new FalconerError(
      'MCP_OUT_OF_SCOPE',
      `${what} is outside the namespaces of this credential (${scope.namespaces.join(', ')})`,
      { scope: scope.name },
    );
  }
}

/**
 * The namespace of a workload key (`pod:<cluster>/<namespace>/<pod>`); host
 * and container keys have none. Parts with '/' or '%' are percent-encoded.
 */
export function namespaceOfWorkloadKey(key: string): string | undefined {
  if (!key.startsWith('pod:')) return undefined;
  const parts = key.slice(4).split('/');
  if (parts.length !== 3 || parts[1] === undefined || parts[1] === '') return undefined;
  try {
    return decodeURIComponent(parts[1]);
  } catch {
    return undefined;
  }
}

/** The pod of a pod workload key. */
export function podOfWorkloadKey(key: string): { namespace: string; pod: string } | undefined {
  const namespace = namespaceOfWorkloadKey(key);
  const raw = key.slice(4).split('/')[2];
  if (namespace === undefined || raw === undefined || raw === '') return undefined;
  try {
    return { namespace, pod: decodeURIComponent(raw) };
  } catch {
    return undefined;
  }
}

/** Refuses a reversed range, or one longer than `maxRangeMs` (an open end counts up to `nowMs`). */
export function assertRange(
  range: { fromMs?: number | undefined; toMs?: number | undefined },
  maxRangeMs: number,
  nowMs: number,
): void {
  const { fromMs, toMs } = range;
  if (fromMs !== undefined && toMs !== undefined && toMs < fromMs) {
    throw new FalconerError('MCP_INVALID_ARGUMENTS', 'toMs: must not be before fromMs', {});
  }
  if (fromMs === undefined) return;
  const span = (toMs ?? Math.max(nowMs, fromMs)) - fromMs;
  if (span > maxRangeMs) {
    throw new FalconerError(
      'MCP_RANGE_TOO_LONG',
      `the time range is ${Math.round(span / 3_600_000)} h; at most ${Math.round(maxRangeMs / 3_600_000)} h per call`,
      { spanMs: span, maxRangeMs },
    );
  }
}
