/**
 * The approved rules detect evaluates on every event: persisted in detect's
 * state database (table `detect_rules`), so they survive a restart, and
 * compiled once. A rule sees only events of its source and their output
 * fields, exactly as the backtest that approved it did.
 */
import type { Kysely } from 'kysely';
import { FalconerError, isFalconerError } from '../../../errors.ts';
import type { NormalizedEvent } from '../../../events/types.ts';
import { compileCandidate, type CandidateRule } from '../../../rules/backtest.ts';
import { loadRules } from '../../../rules/loader.ts';
import type { Store } from '../../../store/db.ts';
import type { Database } from '../../../store/schema.ts';
import './errors.ts';

export interface DetectRulesTable {
  proposal_id: string;
  yaml: string;
  /** Rule names JSON. */
  names: string;
  applied_at: number;
}

type Db = Kysely<Database & { detect_rules: DetectRulesTable }>;

export interface CompiledProposal {
  proposalId: string;
  rules: CandidateRule[];
}

/** Compiles every enabled rule of an approved rules file; DETECT_RULE_INVALID if one does not. */
export function compileApproved(proposalId: string, yaml: string): CompiledProposal {
  const model = loadRules([{ file: '<approved>', text: yaml }]);
  const first = model.issues[0];
  if (first !== undefined)
    throw new FalconerError(
      'DETECT_RULE_INVALID',
      `approved rules of ${proposalId} do not load: ${first.line}:${first.column}: ${first.message}`,
      { proposalId },
    );
  const names = [...model.rules.values()].filter((r) => r.enabled).map((r) => r.name);
  if (names.length === 0)
    throw new FalconerError('DETECT_RULE_INVALID', `approved rules of ${proposalId} define no enabled rule`, {
      proposalId,
    });
  try {
    return { proposalId, rules: names.map((n) => compileCandidate(yaml, [], n)) };
  } catch (err) {
    if (!isFalconerError(err, 'RULES_COMPILE')) throw err;
    throw new FalconerError(
      'DETECT_RULE_INVALID',
      `approved rules of ${proposalId} do not compile: ${err.message}`,
      { proposalId },
      { cause: err },
    );
  }
}

export class ApprovedRules {
  private readonly db: Db;
  private compiled: CandidateRule[] = [];
  private readonly byProposal = new Map<string, CompiledProposal>();

  constructor(store: Pick<Store, 'db'>) {
    this.db = store.db.withTables<{ detect_rules: DetectRulesTable }>();
  }

  /** Loads the persisted rules; a row that no longer compiles is skipped and reported. */
  async load(onInvalid: (proposalId: string, err: unknown) => void = () => undefined): Promise<number> {
    const rows = await this.db.selectFrom('detect_rules').selectAll().orderBy('applied_at').execute();
    for (const row of rows) {
      try {
        this.byProposal.set(row.proposal_id, compileApproved(row.proposal_id, row.yaml));
      } catch (err) {
        onInvalid(row.proposal_id, err);
      }
    }
    this.refresh();
    return this.compiled.length;
  }

  /** Persists and activates an approved rules file; idempotent per proposal id. */
  async apply(proposalId: string, yaml: string): Promise<{ applied: boolean; rules: string[] }> {
    const compiled = compileApproved(proposalId, yaml);
    const names = compiled.rules.map((r) => r.name);
    const result = await this.db
      .insertInto('detect_rules')
      .values({ proposal_id: proposalId, yaml, names: JSON.stringify(names), applied_at: Date.now() })
      .onConflict((oc) => oc.column('proposal_id').doNothing())
      .executeTakeFirst();
    const applied = Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    if (applied || !this.byProposal.has(proposalId)) {
      // A retry (or another replica's insert) still activates what the database holds.
      const row = await this.db
        .selectFrom('detect_rules')
        .selectAll()
        .where('proposal_id', '=', proposalId)
        .executeTakeFirstOrThrow();
      this.byProposal.set(proposalId, row.yaml === yaml ? compiled : compileApproved(proposalId, row.yaml));
      this.refresh();
    }
    return { applied, rules: this.byProposal.get(proposalId)!.rules.map((r) => r.name) };
  }

  private refresh(): void {
    this.compiled = [...this.byProposal.values()].flatMap((p) => p.rules);
  }

  get size(): number {
    return this.compiled.length;
  }

  names(): string[] {
    return this.compiled.map((r) => r.name);
  }

  /** Names of the rules matching the event (rules of its source only). */
  match(ev: Pick<NormalizedEvent, 'source' | 'fields'>): string[] {
    const rules = this.compiled;
    let out: string[] | undefined;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.source === ev.source && r.matches(ev.fields)) (out ??= []).push(r.name);
    }
    return out ?? EMPTY;
  }
}

const EMPTY: string[] = [];
