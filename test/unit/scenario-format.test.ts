/** Falco's output rendering, checked against a real Falco alert. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFormat, fieldText, renderOutput } from '../../src/scenario/format.ts';
import { exactNanos } from '../../src/scenario/serialize.ts';
import { falcoTime } from '../../src/scenario/time.ts';
import type { Priority } from '../../src/events/types.ts';
import { SHARED_DATA } from '../support/paths.ts';

interface RealAlert {
  output: string;
  priority: Priority;
  time: string;
  output_fields: Record<string, string | number>;
}

const realAlerts = readFileSync(
  join(SHARED_DATA, 'falco', 'alerts', 'falco_test_single_rule_with_cat_write.json'),
  'utf8',
)
  .split('\n')
  .filter((l) => l.trim().length > 0)
  .map((l) => JSON.parse(l) as RealAlert);

test('renders real Falco alerts byte for byte (time_format_iso_8601 prefix)', () => {
  assert.ok(realAlerts.length > 0);
  // The test rule of falcosecurity/falco's test suite: `output: An open was seen (command=%proc.cmdline)`.
  const compiled = compileFormat('An open was seen (command=%proc.cmdline)', 'iso8601');
  for (const alert of realAlerts) {
    assert.deepEqual(
      [...compiled.keys],
      Object.keys(alert.output_fields).sort(),
      'output_fields holds the format fields and the time',
    );
    const startMs = Date.parse(`${alert.time.slice(0, 23)}Z`);
    const t = falcoTime(startMs, Number(alert.time.slice(23, 29)));
    assert.equal(t.iso, alert.time);
    assert.equal(
      t.ns,
      alert.output_fields['evt.time.iso8601'],
      'evt.time as JSON.parse reads Falco’s integer',
    );
    assert.equal(exactNanos(alert.time), t.nsDigits);
    const output = renderOutput(compiled, t.iso8601, alert.priority, (f) => alert.output_fields[f] ?? null);
    assert.equal(output, alert.output);
  }
});

test('default time format prints the clock time, like Falco without time_format_iso_8601', () => {
  const t = falcoTime(Date.UTC(2025, 2, 4, 9, 12, 33, 123), 456_789);
  assert.equal(t.clock, '09:12:33.123456789');
  assert.equal(t.iso, '2025-03-04T09:12:33.123456789Z');
  assert.equal(t.nsDigits, '1741079553123456789');
});

test('field text: <NA> for missing values, (a,b) for lists, numbers as numbers', () => {
  assert.equal(fieldText(null), '<NA>');
  assert.equal(fieldText(['nginx:1.25', 'busybox']), '(nginx:1.25,busybox)');
  assert.equal(fieldText(34816), '34816');
  assert.equal(fieldText(-1), '-1');
});

test('tokens end at characters that cannot be part of a field name', () => {
  const c = compileFormat(
    'target=%ka.target.name/%ka.target.resource aname[4]=%proc.aname[4] (x=%jevt.value[/a/b])',
  );
  assert.deepEqual(
    [...c.fields],
    ['ka.target.name', 'ka.target.resource', 'proc.aname[4]', 'jevt.value[/a/b]'],
  );
  assert.deepEqual([...c.literals], ['target=', '/', ' aname[4]=', ' (x=', ')']);
});
