/**
 * Merging proposed rules into the GitOps `falconer_rules.yaml`: items of the
 * proposal replace items of the same kind and name (a re-proposal updates its
 * rule), everything else is kept in order, and the result must load as Falco
 * rules without issue. Pure: text in, text out.
 */
import { parse, stringify } from 'yaml';
import { FalconerError } from '../../errors.ts';
import { loadRules } from '../loader.ts';
import { resolveRules } from '../resolve.ts';
import './errors.ts';

export const RULES_FILE_HEADER =
  '# Falco rules proposed by Falconer and approved by a reviewer. Each change is a commit with its backtest report.\n';

type Item = Record<string, unknown>;

function items(text: string, what: string): Item[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new FalconerError('RULES_DELIVERY_INVALID', `${what} is not YAML: ${(err as Error).message}`, {
      what,
    });
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc) || doc.some((i) => i === null || typeof i !== 'object' || Array.isArray(i)))
    throw new FalconerError('RULES_DELIVERY_INVALID', `${what} is not a list of Falco rules items`, { what });
  return doc as Item[];
}

function identity(i: Item): string | undefined {
  for (const kind of ['rule', 'macro', 'list'])
    if (typeof i[kind] === 'string') return `${kind}\u0000${i[kind] as string}`;
  return undefined;
}

export function mergeRulesFile(existing: string | undefined, proposalYaml: string): string {
  const current = existing === undefined ? [] : items(existing, 'the rules file');
  const added = items(proposalYaml, 'the proposal');
  if (added.length === 0) throw new FalconerError('RULES_DELIVERY_INVALID', 'the proposal has no items', {});
  const replaced = new Set(added.map(identity).filter((k) => k !== undefined));
  const merged = [...current.filter((i) => !replaced.has(identity(i) ?? '')), ...added];
  const text = RULES_FILE_HEADER + stringify(merged, { lineWidth: 0 });
  const model = loadRules([{ file: 'falconer_rules.yaml', text }]);
  // Macros/lists of the official rules are defined elsewhere: only problems of the file itself count.
  const own = [...model.issues, ...resolveRules(model).issues].filter(
    (i) => !/undefined (macro|list)/.test(i.message),
  );
  if (own.length > 0) {
    const first = own[0]!;
    throw new FalconerError(
      'RULES_DELIVERY_INVALID',
      `merged rules file is invalid: ${first.line}:${first.column}: ${first.message}`,
      { issues: own },
    );
  }
  return text;
}
