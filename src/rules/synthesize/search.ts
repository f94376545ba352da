/**
 * Greedy generalization of one conjunction per incident group against a
 * baseline. Terms are visited from the least telling field (command lines,
 * users, ancestors) to the most (event type, process, file, peer); each is
 * dropped, or else moved to its most general alternative, as long as the
 * rule's baseline hits stay within the limit. Repeated until nothing moves.
 *
 * Cost: one pass over the group's baseline events per accepted step; in that
 * pass each event records which terms it fails (stopping at two), so every
 * candidate step is priced on just the events that fail only the term it
 * changes.
 */
import type { OutputFields } from '../fields/syscall.ts';
import { keepWeight, type Term } from './terms.ts';

export interface Baseline {
  fields: OutputFields[];
  sources: string[];
}

export interface GroupSearch {
  source: string;
  terms: Term[];
  /** Per term (same index): its generalizations, most specific first. */
  alternatives: Term[][];
  /** Terms that must stay (evt.type of a syscall rule: Falco wants an event type filter). */
  pinned: Set<string>;
}

interface Scan {
  hits: number[];
  /** Per term index: baseline events that fail that term only. */
  failOnly: number[][];
}

function scan(g: GroupSearch, base: Baseline): Scan {
  const n = g.terms.length;
  const failOnly: number[][] = Array.from({ length: n }, () => []);
  const hits: number[] = [];
  const { fields, sources } = base;
  for (let i = 0; i < fields.length; i++) {
    if (sources[i] !== g.source) continue;
    const ev = fields[i]!;
    let failed = -1;
    let fails = 0;
    for (let t = 0; t < n; t++) {
      if (!g.terms[t]!.test(ev)) {
        fails++;
        if (fails > 1) break;
        failed = t;
      }
    }
    if (fails === 0) hits.push(i);
    else if (fails === 1) failOnly[failed]!.push(i);
  }
  return { hits, failOnly };
}

/**
 * Generalize every group in place. `covered` counts, per baseline event, the
 * groups that hit it (the rule is their `or`); `limit` bounds the rule's hits.
 */
export function generalize(groups: GroupSearch[], base: Baseline, limit: number): { hits: number } {
  const covered = new Uint16Array(base.fields.length);
  let total = 0;
  const scans = groups.map((g) => scan(g, base));
  for (const s of scans)
    for (const i of s.hits) {
      if (covered[i] === 0) total++;
      covered[i]!++;
    }
  const budget = Math.max(limit, total);
  for (let gi = 0; gi < groups.length; gi++) {
    const g = groups[gi]!;
    for (let changed = true; changed;) {
      changed = false;
      const s = scans[gi]!;
      // Least telling fields first; for each, the most general acceptable step.
      const order = g.terms
        .map((_, t) => t)
        .sort((a, b) => keepWeight(g.terms[a]!.field) - keepWeight(g.terms[b]!.field));
      for (const t of order) {
        const cur = g.terms[t]!;
        const options: (Term | null)[] = g.alternatives[t]!.filter((a) => a.rank > cur.rank).sort(
          (a, b) => b.rank - a.rank,
        );
        if (!g.pinned.has(cur.field) && g.terms.length > 1) options.unshift(null);
        const step = options.find((alt) => {
          let added = 0;
          for (const i of s.failOnly[t]!)
            if (covered[i] === 0 && (alt === null || alt.test(base.fields[i]!))) added++;
          return total + added <= budget;
        });
        if (step === undefined) continue;
        for (const i of s.hits) covered[i]!--;
        if (step === null) {
          g.terms.splice(t, 1);
          g.alternatives.splice(t, 1);
        } else g.terms[t] = step;
        const next = scan(g, base);
        for (const i of next.hits) covered[i]!++;
        scans[gi] = next;
        total = 0;
        for (let i = 0; i < covered.length; i++) if (covered[i]! > 0) total++;
        changed = true;
        break;
      }
    }
  }
  return { hits: total };
}
