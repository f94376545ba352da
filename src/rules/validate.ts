/**
 * Validation and rule testing as reports (used by the CLI and the MCP tools):
 * every file of a set loaded together in order, issues attributed to the file
 * they are in.
 */
import { readFile } from 'node:fs/promises';
import { FalconerError } from '../errors.ts';
import type { RulesIssue } from './errors.ts';
import type { AuditEvent } from './fields/k8s-audit.ts';
import type { OutputFields } from './fields/syscall.ts';
import type { RulesSource } from './loader.ts';
import { compileRuleSources, matchEvent, type RuleSet, type RuleSource } from './ruleset.ts';

export interface FileValidation {
  file: string;
  rules: number;
  macros: number;
  lists: number;
  errors: RulesIssue[];
}

export function validateSources(sources: readonly RulesSource[]): {
  files: FileValidation[];
  ruleSet: RuleSet;
} {
  const ruleSet = compileRuleSources(sources);
  const files = ruleSet.model.files.map((f) => ({
    ...f,
    errors: ruleSet.issues.filter((i) => i.file === f.file),
  }));
  return { files, ruleSet };
}

export async function readRulesFiles(paths: readonly string[]): Promise<RulesSource[]> {
  return Promise.all(
    paths.map(async (file) => {
      try {
        return { file, text: await readFile(file, 'utf8') };
      } catch (err) {
        throw new FalconerError('IO_ERROR', `cannot read rules file ${file}: ${(err as Error).message}`, {
          file,
        });
      }
    }),
  );
}

export interface DetectionReport {
  events: number;
  detections: Record<string, number>;
}

export function countDetections(
  ruleSet: RuleSet,
  source: RuleSource,
  events: Iterable<OutputFields | AuditEvent>,
): DetectionReport {
  const detections: Record<string, number> = {};
  let n = 0;
  for (const ev of events) {
    n++;
    const matched =
      source === 'k8s_audit'
        ? matchEvent(ruleSet, 'k8s_audit', ev)
        : matchEvent(ruleSet, 'syscall', ev as OutputFields);
    for (const r of matched) detections[r] = (detections[r] ?? 0) + 1;
  }
  return { events: n, detections };
}
