/**
 * The rules of a proposal's YAML as plain data (name, condition, output…),
 * for the wire and for reviewers; the loader has already validated the text.
 */
import { parse } from 'yaml';
import { clip } from '../../event-wire.ts';
import type { RuleWire } from '../../contracts.ts';

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

export function rulesOfYaml(yaml: string): RuleWire[] {
  const doc: unknown = parse(yaml);
  if (!Array.isArray(doc)) return [];
  const out: RuleWire[] = [];
  for (const item of doc as unknown[]) {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) continue;
    const i = item as Record<string, unknown>;
    if (typeof i.rule !== 'string' || typeof i.condition !== 'string') continue;
    out.push({
      name: clip(i.rule, 512),
      desc: clip(str(i.desc), 4000),
      condition: i.condition,
      output: clip(str(i.output), 8000),
      priority: clip(str(i.priority, 'Warning'), 32),
      tags: Array.isArray(i.tags)
        ? i.tags
            .filter((t): t is string => typeof t === 'string')
            .map((t) => clip(t, 128))
            .slice(0, 64)
        : [],
      source: clip(str(i.source, 'syscall'), 64),
    });
  }
  return out;
}
