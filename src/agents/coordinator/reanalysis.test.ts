import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineEntry } from './incident-repo.ts';
import { analysisRounds, diffProposals, followUpOf, isNovel, reanalysisDecision } from './reanalysis.ts';
import { proposal } from './testing/fakes.ts';

const entry = (
  seq: number,
  from: TimelineEntry['from'],
  to: TimelineEntry['to'],
  at: number,
  detail?: unknown,
): TimelineEntry => ({
  seq,
  from,
  to,
  at,
  actor: 'test',
  reason: 'test',
  ...(detail !== undefined ? { detail } : {}),
});

test('novelty: a new signal, a new rule or a more urgent priority; more of the same is not', () => {
  const seen = { rules: ['Terminal shell in container'], priorityLevel: 5 };
  assert.equal(isNovel(undefined, seen), true);
  assert.equal(isNovel(seen, { rules: ['Terminal shell in container'], priorityLevel: 5 }), false);
  assert.equal(isNovel(seen, { rules: ['Terminal shell in container'], priorityLevel: 6 }), false);
  assert.equal(isNovel(seen, { rules: ['Terminal shell in container'], priorityLevel: 4 }), true);
  assert.equal(
    isNovel(seen, { rules: ['Terminal shell in container', 'Read sensitive file'], priorityLevel: 5 }),
    true,
  );
});

test('novelty: the same rule fired by another process is a new behaviour; reports without behaviours compare rules only', () => {
  const rules = ['Network Connection outside Local Subnet'];
  const seen = { rules, priorityLevel: 4, behaviours: ['["R","python3","gunicorn"]'] };
  assert.equal(isNovel(seen, { ...seen }), false);
  assert.equal(isNovel(seen, { ...seen, behaviours: [...seen.behaviours, '["R","curl","sh"]'] }), true);
  assert.equal(isNovel({ rules, priorityLevel: 4 }, seen), false, 'an older report has no behaviours');
  assert.equal(isNovel(seen, { rules, priorityLevel: 4 }), false);
});

test('rounds and the rate limit come from the timeline alone', () => {
  const timeline = [
    entry(1, null, 'new', 0),
    entry(2, 'new', 'analysing', 10),
    entry(3, 'analysing', 'analysing', 12, { reanalysis: 'requested', signalId: 'early' }),
    entry(4, 'analysing', 'proposed', 20),
    entry(5, 'proposed', 'awaiting_approval', 30),
    entry(6, 'awaiting_approval', 'awaiting_approval', 40, { reanalysis: 'requested', signalId: 's2' }),
    entry(7, 'awaiting_approval', 'awaiting_approval', 50, { reanalysis: 'requested', signalId: 's2' }),
  ];
  const rounds = analysisRounds(timeline);
  assert.deepEqual(rounds, { round: 1, lastStartedAt: 10, requestedBy: ['early', 's2'] });
  assert.deepEqual(reanalysisDecision(rounds, 'awaiting_approval', 20_000, 30_000), {
    kind: 'later',
    inMs: 10_010,
  });
  assert.deepEqual(reanalysisDecision(rounds, 'awaiting_approval', 30_010, 30_000), { kind: 'now' });
  assert.deepEqual(reanalysisDecision(rounds, 'remediating', 90_000, 30_000), { kind: 'none' });
  // The first re-analysis may come sooner than the interval; the next ones may not.
  assert.deepEqual(reanalysisDecision(rounds, 'awaiting_approval', 2_010, 30_000, 2_000), { kind: 'now' });
  assert.deepEqual(reanalysisDecision(rounds, 'awaiting_approval', 1_010, 30_000, 2_000), {
    kind: 'later',
    inMs: 1_000,
  });
  const after = analysisRounds([...timeline, entry(8, 'awaiting_approval', 'analysing', 30_010)]);
  assert.deepEqual(after, { round: 2, lastStartedAt: 30_010, requestedBy: [] });
  assert.deepEqual(reanalysisDecision(after, 'awaiting_approval', 90_000, 30_000), { kind: 'none' });
});

test('proposal diff: the timestamp does not make an action new; params, target and the policy verdict do', () => {
  const a = {
    ...proposal('p1', { requiresApproval: true, approvalsRequired: 1 }),
    params: { at: 1, engine: 'cilium' },
  };
  const sameButLater = {
    ...a,
    params: { engine: 'cilium', at: 2 },
    decision: { ...a.decision!, inputDigest: 'b'.repeat(64) },
  };
  assert.deepEqual(diffProposals([a], [sameButLater]), { unchanged: true, invalidated: [] });
  const otherEngine = { ...a, params: { at: 1, engine: 'kubernetes' } };
  assert.deepEqual(diffProposals([a], [otherEngine]), { unchanged: false, invalidated: ['p1'] });
  const fourEyes = { ...a, decision: { ...a.decision!, approvalsRequired: 2 } };
  assert.deepEqual(diffProposals([a], [fourEyes]), { unchanged: false, invalidated: ['p1'] });
  const added = proposal('p2');
  assert.deepEqual(diffProposals([a], [sameButLater, added]), { unchanged: false, invalidated: [] });
  assert.deepEqual(diffProposals([a, added], [sameButLater]), { unchanged: false, invalidated: ['p2'] });
});

test('follow-up: the most recent closed incident within the window', () => {
  const closed = [
    { id: 'old', lastSignalAtMs: 1_000 },
    { id: 'recent', lastSignalAtMs: 5_000 },
  ];
  assert.equal(followUpOf(6_000, closed, 10_000), 'recent');
  assert.equal(followUpOf(12_000, closed, 10_000), 'recent');
  assert.equal(followUpOf(100_000, closed, 10_000), undefined);
});
