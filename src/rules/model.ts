/** The rules model: what a set of Falco rules files defines after loading (before compiling). */
import type { RulesIssue, SourceLocation } from './errors.ts';
import type { LocationMapper } from './parser.ts';

/** One piece of a condition: its text and where it came from (appends add pieces, joined by a blank). */
export interface ConditionPart {
  text: string;
  locate: LocationMapper;
}

export interface ListDef {
  name: string;
  items: string[];
  loc: SourceLocation;
}

export interface MacroDef {
  name: string;
  condition: ConditionPart[];
  loc: SourceLocation;
}

export interface ExceptionDef {
  name: string;
  /** One field (values are a list of values) or several (values are tuples). */
  fields: string | string[];
  comps: string | string[] | undefined;
  values: unknown[];
  loc: SourceLocation;
}

export interface RuleDef {
  name: string;
  desc: string;
  condition: ConditionPart[];
  output: string;
  priority: string;
  source: string;
  tags: string[];
  enabled: boolean;
  exceptions: ExceptionDef[];
  loc: SourceLocation;
}

export interface PluginRequirement {
  name: string;
  version: string;
}

export interface FileSummary {
  file: string;
  rules: number;
  macros: number;
  lists: number;
}

export interface RulesModel {
  lists: Map<string, ListDef>;
  macros: Map<string, MacroDef>;
  /** In definition order (Falco evaluates and reports in this order). */
  rules: Map<string, RuleDef>;
  requiredEngineVersion: string | undefined;
  requiredPluginVersions: PluginRequirement[];
  files: FileSummary[];
  issues: RulesIssue[];
}

export const PRIORITY_NAMES: Readonly<Record<string, string>> = {
  emergency: 'Emergency',
  alert: 'Alert',
  critical: 'Critical',
  error: 'Error',
  warning: 'Warning',
  notice: 'Notice',
  info: 'Informational',
  informational: 'Informational',
  debug: 'Debug',
};

export function joinCondition(parts: readonly ConditionPart[]): { text: string; locate: LocationMapper } {
  const text = parts.map((p) => p.text).join(' ');
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) {
    starts.push(at);
    at += p.text.length + 1;
  }
  return {
    text,
    locate: (offset) => {
      let k = parts.length - 1;
      while (k > 0 && starts[k]! > offset) k--;
      return parts[k]!.locate(Math.max(0, offset - starts[k]!));
    },
  };
}
