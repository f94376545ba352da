import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPlatformReport, type IncidentView } from './platform-report.ts';
import { checkTraces } from './trace-check.ts';

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);

test('attacks are matched to the first incident holding one of their events', () => {
  const incidents: IncidentView[] = [
    {
      id: 'i1',
      status: 'awaiting_approval',
      createdAtMs: 1_500,
      traceId: T1,
      eventIds: ['e2', 'x'],
      proposals: 2,
      verdict: null,
    },
    {
      id: 'i0',
      status: 'resolved',
      createdAtMs: 1_200,
      traceId: T2,
      eventIds: ['e3'],
      proposals: 1,
      verdict: null,
    },
    {
      id: 'i9',
      status: 'dismissed',
      createdAtMs: 9_000,
      traceId: T2,
      eventIds: ['benign'],
      proposals: 0,
      verdict: null,
    },
  ];
  const report = buildPlatformReport({
    events: 100,
    rejected: 0,
    forwarded: 5,
    signals: 3,
    attacks: [
      {
        attackId: 'a',
        kind: 'reverse-shell',
        technique: 'T1059',
        eventIds: new Set(['e1', 'e2', 'e3']),
        firstSentMs: 1_000,
      },
      {
        attackId: 'b',
        kind: 'cryptominer',
        technique: 'T1496',
        eventIds: new Set(['m1']),
        firstSentMs: 2_000,
      },
    ],
    incidents,
    notifications: 4,
    traceCheck: new Map([['i1', { missingIn: [], conflictingIn: [] }]]),
    agentFailures: [],
  });
  assert.deepEqual(report.attacks, [
    { kind: 'reverse-shell', technique: 'T1059', detected: true, incidentId: 'i0', msToIncident: 200 },
    { kind: 'cryptominer', technique: 'T1496', detected: false, incidentId: null, msToIncident: null },
  ]);
  assert.equal(report.incidents, 3);
  assert.equal(report.falsePositiveIncidents, 1);
  assert.equal(report.actionsProposed, 3);
  assert.equal(report.traceIdsConsistent, true);
  assert.deepEqual(report.failures, []);
});

test('a trace id missing from an agent, or a conflicting one, makes the run inconsistent', () => {
  const logs = new Map([
    ['detect', `{"traceId":"${T1}","msg":"signal"}\nnot json\n`],
    ['coordinator', `{"traceId":"${T1}","incidentId":"i1"}\n{"traceId":"${T2}","incidentId":"i1"}\n{"trunc`],
    ['analyse', `{"msg":"no trace"}\n`],
  ]);
  const result = checkTraces(logs, [{ id: 'i1', traceId: T1, agents: ['detect', 'coordinator', 'analyse'] }]);
  assert.deepEqual(result.get('i1'), { missingIn: ['analyse'], conflictingIn: ['coordinator'] });
  const report = buildPlatformReport({
    events: 1,
    rejected: 0,
    forwarded: 1,
    signals: 1,
    attacks: [],
    incidents: [
      { id: 'i1', status: 'new', createdAtMs: 0, traceId: T1, eventIds: [], proposals: 0, verdict: null },
    ],
    notifications: 0,
    traceCheck: result,
    agentFailures: ['analyse restarted 2 times'],
  });
  assert.equal(report.traceIdsConsistent, false);
  assert.equal(report.failures.length, 2);
});
