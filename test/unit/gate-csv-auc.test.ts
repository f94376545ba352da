import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseNumericCsv } from '../../src/gate/csv.ts';
import { rocAuc } from '../../src/gate/auc.ts';
import { isFalconerError } from '../../src/errors.ts';

test('parses a numeric CSV, splitting off the label column wherever it is', () => {
  const t = parseNumericCsv('\ufeffa,label,"b"\r\n1,0,2.5\r\n-3e2,1,.5\r\n\r\n', { source: 'x.csv' });
  assert.deepEqual(t.names, ['a', 'b']);
  assert.equal(t.n, 2);
  assert.equal(t.d, 2);
  assert.deepEqual(Array.from(t.data), [1, 2.5, -300, 0.5]);
  assert.deepEqual(Array.from(t.labels!), [0, 1]);
  const noLabel = parseNumericCsv('a,b\n1,2\n');
  assert.equal(noLabel.labels, null);
  const custom = parseNumericCsv('y,a\n1,5\n', { label: 'y' });
  assert.deepEqual(Array.from(custom.data), [5]);
  const all = parseNumericCsv('label,a\n1,5\n', { label: null });
  assert.equal(all.d, 2);
});

test('bad CSV is refused with CSV_INVALID naming the line and column', () => {
  const bad = (text: string, context: Record<string, unknown>, options = {}) =>
    assert.throws(
      () => parseNumericCsv(text, { source: 'f.csv', ...options }),
      (e) => {
        assert.ok(isFalconerError(e, 'CSV_INVALID'), String(e));
        for (const [k, v] of Object.entries(context)) assert.equal(e.context[k], v, k);
        assert.equal(e.context.file, 'f.csv');
        return true;
      },
    );
  bad('', {});
  bad('a,b,label\n1,2,0\n3,x,1\n', { line: 3, column: 2, name: 'b' });
  bad('a,b,label\n1,2,0\n3,,1\n', { line: 3, column: 2 });
  bad('a,b,label\n1,2,0\n0x1f,2,1\n', { line: 3, column: 1 });
  bad('a,b,label\n1,2,0\n1e999,2,1\n', { line: 3, column: 1 });
  bad('a,b,label\n1,2\n', { line: 2 });
  bad('a,b,label\n1,2,2\n', { line: 2, column: 3, name: 'label' });
  bad('a,,label\n', { line: 1, column: 2 });
  bad('a,a,label\n', { line: 1, column: 2 });
  bad('a,b\n1,2\n', { line: 1 }, { requireLabel: true });
  bad('label\n1\n', { line: 1 });
});

test('CSV parser never throws anything but CSV_INVALID on random text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseNumericCsv(`a,label\n${text}`);
      } catch (e) {
        assert.ok(isFalconerError(e, 'CSV_INVALID'), String(e));
      }
    }),
    { numRuns: 300, seed: 2 },
  );
});

test('AUC: hand-computed cases with ties', () => {
  assert.equal(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0);
  assert.equal(rocAuc([0.5, 0.5, 0.5], [1, 0, 0]), 0.5);
  // Positives 0.9 and 0.4, negatives 0.5, 0.1, 0.4: pairs won 3 + 1 + 0.5 (tie) of 6.
  assert.equal(rocAuc([0.9, 0.5, 0.4, 0.1, 0.4], [1, 0, 1, 0, 0]), 4.5 / 6);
  assert.ok(Number.isNaN(rocAuc([0.1, 0.2], [0, 0])));
  assert.ok(Number.isNaN(rocAuc([], [])));
  assert.throws(
    () => rocAuc([0.1], [0, 1]),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => rocAuc([Number.NaN, 1], [0, 1]),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.throws(
    () => rocAuc([0, 1], [0, 2]),
    (e) => isFalconerError(e, 'USAGE'),
  );
  assert.equal(rocAuc([-Infinity, Infinity, Infinity], [0, 1, 0]), 0.75);
});

test('AUC equals the pair-counting definition on random inputs', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean()), { minLength: 2, maxLength: 60 }),
      (pairs) => {
        const scores = pairs.map(([s]) => s);
        const labels = pairs.map(([, l]) => (l ? 1 : 0));
        let wins = 0;
        let total = 0;
        for (let i = 0; i < pairs.length; i++) {
          for (let j = 0; j < pairs.length; j++) {
            if (labels[i] === 1 && labels[j] === 0) {
              total++;
              wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
            }
          }
        }
        const auc = rocAuc(scores, labels);
        if (total === 0) assert.ok(Number.isNaN(auc));
        else assert.ok(Math.abs(auc - wins / total) < 1e-12);
      },
    ),
    { numRuns: 300, seed: 3 },
  );
});
