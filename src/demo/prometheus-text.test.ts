import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePrometheusText, sumMetric } from './prometheus-text.ts';

test('reads counters with labels, skipping comments and odd lines', () => {
  const text = [
    '# HELP falconer_events_forwarded_total Events forwarded',
    '# TYPE falconer_events_forwarded_total counter',
    'falconer_events_forwarded_total{agent="detect",reason="score"} 12',
    'falconer_events_forwarded_total{agent="detect",reason="novel \\"x\\""} 3',
    'falconer_notifications_total{sink="file",outcome="ok"} 4',
    'falconer_notifications_total{sink="mattermost",outcome="failed"} 1',
    'garbage line',
    'up 1',
  ].join('\n');
  const s = parsePrometheusText(text);
  assert.equal(sumMetric(s, 'falconer_events_forwarded_total'), 15);
  assert.equal(sumMetric(s, 'falconer_events_forwarded_total', { reason: 'novel "x"' }), 3);
  assert.equal(sumMetric(s, 'falconer_notifications_total', { outcome: 'ok' }), 4);
  assert.equal(sumMetric(s, 'up'), 1);
  assert.equal(sumMetric(s, 'missing'), 0);
});
