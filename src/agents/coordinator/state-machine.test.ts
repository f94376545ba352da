import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFalconerError } from '../../errors.ts';
import { approvalOutcome, approvalsRequired, proposalState, type ApprovalRecord } from './approvals.ts';
import {
  INCIDENT_STATUSES,
  OPEN_STATUSES,
  TRANSITIONS,
  assertTransition,
  canTransition,
  groupSignal,
  incidentSeverity,
  severityFromPriority,
} from './state-machine.ts';
import { proposal } from './testing/fakes.ts';

test('transition table: the happy path, the shortcut, dismissal from every open state, nothing out of a terminal state', () => {
  const legal = [
    ['new', 'analysing'],
    ['analysing', 'proposed'],
    ['proposed', 'awaiting_approval'],
    ['proposed', 'remediating'],
    ['awaiting_approval', 'remediating'],
    ['remediating', 'resolved'],
    // Re-analysis after late signals.
    ['proposed', 'analysing'],
    ['awaiting_approval', 'analysing'],
    // Again, when signals joined while an analysis that would dismiss ran.
    ['analysing', 'analysing'],
    ...OPEN_STATUSES.map((s) => [s, 'dismissed']),
  ];
  for (const from of INCIDENT_STATUSES) {
    for (const to of INCIDENT_STATUSES) {
      const expected = legal.some(([f, t]) => f === from && t === to);
      assert.equal(canTransition(from, to), expected, `${from} → ${to}`);
      if (expected) assertTransition(from, to);
      else
        assert.throws(
          () => assertTransition(from, to, 'inc-1'),
          (e) => isFalconerError(e, 'INCIDENT_ILLEGAL_TRANSITION') && e.context.incidentId === 'inc-1',
        );
    }
  }
  assert.deepEqual(TRANSITIONS.resolved, []);
  assert.deepEqual(TRANSITIONS.dismissed, []);
});

test('grouping: same workload within the window joins the most recent open incident; otherwise opens', () => {
  const w = 'default/shop/web-1';
  const open = [
    { id: 'a', workloadKey: w, status: 'analysing' as const, lastSignalAtMs: 1000 },
    { id: 'b', workloadKey: w, status: 'awaiting_approval' as const, lastSignalAtMs: 5000 },
    { id: 'c', workloadKey: 'other', status: 'new' as const, lastSignalAtMs: 6000 },
    { id: 'd', workloadKey: w, status: 'resolved' as const, lastSignalAtMs: 6000 },
  ];
  assert.deepEqual(groupSignal({ workloadKey: w, atMs: 6000 }, open, 2000), {
    kind: 'join',
    incidentId: 'b',
  });
  assert.deepEqual(groupSignal({ workloadKey: w, atMs: 2500 }, open, 1500), {
    kind: 'join',
    incidentId: 'a',
  });
  assert.deepEqual(groupSignal({ workloadKey: w, atMs: 9000 }, open, 2000), { kind: 'open' });
  assert.deepEqual(groupSignal({ workloadKey: 'x', atMs: 6000 }, open, 60_000), { kind: 'open' });
  assert.deepEqual(groupSignal({ workloadKey: w, atMs: 6000 }, [open[3]!], 60_000), { kind: 'open' });
});

test('severity: from Falco priority; analysis may raise it, never lower it', () => {
  assert.equal(severityFromPriority(0), 'critical');
  assert.equal(severityFromPriority(2), 'critical');
  assert.equal(severityFromPriority(3), 'high');
  assert.equal(severityFromPriority(4), 'medium');
  assert.equal(severityFromPriority(7), 'low');
  assert.equal(incidentSeverity(5, 'critical'), 'critical');
  assert.equal(incidentSeverity(1, 'low'), 'critical');
  assert.equal(incidentSeverity(4), 'medium');
});

test('approvals: undecided policy needs one; four eyes needs two distinct people; a rejection decides', () => {
  const undecided = proposal('u');
  const auto = proposal('auto', { requiresApproval: false, approvalsRequired: 0 });
  const refused = proposal('r', { requiresApproval: true, approvalsRequired: 1, allowed: false });
  const fourEyes = proposal('f', { requiresApproval: true, approvalsRequired: 2 });
  assert.equal(approvalsRequired(undecided), 1);
  assert.equal(approvalsRequired(auto), 0);
  assert.equal(approvalsRequired(refused), undefined);
  assert.equal(approvalsRequired(fourEyes), 2);
  const a = (proposalId: string, by: string, decision: 'approve' | 'reject' = 'approve'): ApprovalRecord => ({
    proposalId,
    by,
    decision,
    at: 1,
    via: 'api',
  });
  assert.equal(proposalState(fourEyes, [a('f', 'alice')]), 'pending');
  assert.equal(proposalState(fourEyes, [a('f', 'alice'), a('f', 'alice')]), 'pending');
  assert.equal(proposalState(fourEyes, [a('f', 'alice'), a('f', 'bob')]), 'approved');
  assert.equal(proposalState(fourEyes, [a('f', 'alice'), a('f', 'bob', 'reject')]), 'rejected');
  assert.equal(proposalState(auto, []), 'approved');
  assert.equal(proposalState(refused, [a('r', 'alice')]), 'refused');
  assert.equal(approvalOutcome([undecided, auto], []), undefined);
  assert.deepEqual(
    approvalOutcome([undecided, auto, refused], [a('u', 'alice', 'reject')])?.approved.map((p) => p.id),
    ['auto'],
  );
});
