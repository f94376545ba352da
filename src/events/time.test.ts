/**
 * parseRfc3339 remembers the last minute it parsed; these check that the shortcut gives exactly
 * what a full parse gives, against an independent reference, over random sequences of times that
 * share, change or break their minute prefix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRfc3339, parseRfc3339Once } from './time.ts';

const RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The reference: a regular expression and Date.UTC over all components, no caching. */
function reference(s: string): number {
  const m = RE.exec(s);
  if (m === null) return NaN;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo! < 1 || mo! > 12 || d! < 1 || h! > 23 || mi! > 59 || sec! > 60) return NaN;
  const leap = (y! % 4 === 0 && y! % 100 !== 0) || y! % 400 === 0;
  const dim = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo! - 1]!;
  if (d! > dim) return NaN;
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (m[9] !== undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return NaN;
    offset = (oh * 60 + om) * (m[9] === '+' ? 1 : -1);
  }
  const date = new Date(0);
  date.setUTCFullYear(y!, mo! - 1, d!);
  date.setUTCHours(h!, mi!, sec!, ms);
  return date.getTime() - offset * 60_000;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

const timeText = fc
  .record({
    year: fc.oneof(fc.constant(2026), fc.integer({ min: 0, max: 9999 })),
    month: fc.oneof(fc.constant(11), fc.integer({ min: 0, max: 13 })),
    day: fc.oneof(fc.constant(26), fc.integer({ min: 0, max: 32 })),
    hour: fc.oneof(fc.constant(10), fc.integer({ min: 0, max: 24 })),
    minute: fc.oneof(fc.constant(30), fc.integer({ min: 0, max: 60 })),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{0,10}$/)),
    zone: fc.constantFrom('Z', 'z', '+02:00', '-05:30', '+24:00', '+01:60', '', 'Zx'),
    t: fc.constantFrom('T', 't', ' '),
  })
  .map(
    (p) =>
      `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}${p.t}${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}${p.fraction}${p.zone}`,
  );

test('parseRfc3339 over sequences sharing minutes equals a full reference parse', () => {
  fc.assert(
    fc.property(fc.array(timeText, { minLength: 1, maxLength: 30 }), (texts) => {
      for (const s of texts) assert.equal(parseRfc3339(s), reference(s), s);
    }),
    { numRuns: 400 },
  );
});

test('parseRfc3339Once (no last-string memo) equals the reference too, interleaved with parseRfc3339', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(timeText, fc.boolean()), { minLength: 1, maxLength: 30 }), (items) => {
      // Both share the minute shortcut: alternate them, and repeat strings, so each sees the other's minute.
      for (const [s, once] of items) {
        assert.equal(once ? parseRfc3339Once(s) : parseRfc3339(s), reference(s), s);
        assert.equal(parseRfc3339Once(s), reference(s), s);
      }
    }),
    { numRuns: 300 },
  );
});

test('the minute shortcut compares all sixteen characters of the prefix', () => {
  const first = '2026-11-26T07:15:01.123456789Z';
  assert.equal(parseRfc3339Once(first), Date.UTC(2026, 10, 26, 7, 15, 1, 123));
  // Same length, differing in one prefix character at a time: each must be parsed on its own.
  for (let i = 0; i < 16; i++) {
    const c = first.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    const other = first.slice(0, i) + String.fromCharCode(c === 57 ? 48 : c + 1) + first.slice(i + 1);
    assert.equal(parseRfc3339Once(first), reference(first), first);
    assert.equal(parseRfc3339Once(other), reference(other), other);
  }
});

test('a valid minute prefix does not vouch for a broken rest', () => {
  assert.equal(parseRfc3339('2026-11-26T07:15:01.123456789Z'), Date.UTC(2026, 10, 26, 7, 15, 1, 123));
  assert.ok(Number.isNaN(parseRfc3339('2026-11-26T07:15:61.123456789Z')));
  assert.ok(Number.isNaN(parseRfc3339('2026-11-26T07:15x01.123456789Z')));
  assert.ok(Number.isNaN(parseRfc3339('2026-11-26T07:15:01.Z')));
  assert.ok(Number.isNaN(parseRfc3339('2026-11-26T07:15:01+01:00x')));
  assert.equal(parseRfc3339('2026-11-26T07:15:60Z'), Date.UTC(2026, 10, 26, 7, 16, 0));
  assert.equal(parseRfc3339('0099-01-01T00:00:00.5-01:00'), reference('0099-01-01T00:00:00.5-01:00'));
});
