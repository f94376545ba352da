import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import {
  countNdjsonLines,
  NdjsonSplitter,
  parseNdjson,
  parseNdjsonBuffer,
  type NdjsonRecord,
} from '../../src/events/ndjson.ts';
import { normalizeAlert } from '../../src/events/normalize.ts';
import type { NormalizedEvent } from '../../src/events/types.ts';
import { firstInvalidUtf8Offset } from '../../src/events/utf8.ts';
import { realAlertLines, terminalShellAlert } from '../support/falco-alerts.ts';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('lines: LF and CRLF, blank and whitespace-only lines skipped, last line without newline, numbering', () => {
  const records = parseNdjsonBuffer(b('{"a":1}\r\n\n  \t\r\n{"b":2}\n[3]'));
  assert.deepEqual(records, [
    { ok: true, line: 1, event: { a: 1 } },
    { ok: true, line: 4, event: { b: 2 } },
    { ok: true, line: 5, event: [3] },
  ]);
  assert.deepEqual(parseNdjsonBuffer(b('')), []);
  assert.deepEqual(parseNdjsonBuffer(b('\n\n\r\n')), []);
});

test('bad lines are reported with their number and code, and the stream goes on', () => {
  const bytes = Buffer.concat([
    b('{"ok":1}\n'),
    b('{"broken":\n'),
    Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]), // {"\xff":1}
    Buffer.from([0xc0, 0x80, 0x0a]), // overlong NUL
    Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // UTF-16 surrogate
    b(`"${'x'.repeat(100)}"\n`),
    b('{"ok":2}'),
  ]);
  const records = parseNdjsonBuffer(bytes, { maxLineBytes: 50 });
  assert.deepEqual(
    records.map((r) => (r.ok ? `${r.line}:ok` : `${r.line}:${r.code}`)),
    [
      '1:ok',
      '2:EVENT_INVALID_JSON',
      '3:EVENT_INVALID_UTF8',
      '4:EVENT_INVALID_UTF8',
      '5:EVENT_INVALID_UTF8',
      '6:EVENT_TOO_LARGE',
      '7:ok',
    ],
  );
  const utf8 = records[2];
  assert.ok(utf8 !== undefined && !utf8.ok);
  assert.equal(utf8.reason, 'invalid UTF-8 at byte 2');
  const big = records[5];
  assert.ok(big !== undefined && !big.ok);
  assert.equal(big.reason, 'line of 102 bytes exceeds the limit of 50 bytes');
});

test('an oversized line is skipped without being buffered, even when it streams in small chunks', () => {
  const records: NdjsonRecord<unknown>[] = [];
  const splitter = new NdjsonSplitter({ maxLineBytes: 1024 }, (r) => records.push(r));
  splitter.push(b('{"first":true}\n{"huge":"'));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 160; i++) splitter.push(chunk); // 10 MiB on one line
  splitter.push(b('"}\n{"after":true}\n'));
  splitter.end();
  assert.equal(records.length, 3);
  assert.deepEqual(records[0], { ok: true, line: 1, event: { first: true } });
  assert.equal(records[1]?.ok, false);
  assert.equal(!records[1]?.ok && records[1]?.code, 'EVENT_TOO_LARGE');
  assert.match(
    !records[1]?.ok ? records[1]!.reason : '',
    /line of 10485771 bytes exceeds the limit of 1024 bytes/,
  );
  assert.deepEqual(records[2], { ok: true, line: 3, event: { after: true } });
});

test('a line at exactly the limit passes; its CR does not count', () => {
  const line = `"${'y'.repeat(8)}"`; // 10 bytes
  assert.equal(parseNdjsonBuffer(b(`${line}\r\n`), { maxLineBytes: 10 })[0]?.ok, true);
  assert.equal(parseNdjsonBuffer(b(`${line} \n`), { maxLineBytes: 10 })[0]?.ok, false);
});

test('decode maps each value; its errors become records (schema errors keep their path)', () => {
  const good = JSON.stringify(terminalShellAlert());
  const bad = JSON.stringify(terminalShellAlert({ time: 'yesterday' }));
  const records = parseNdjsonBuffer<NormalizedEvent>(b(`${good}\n${bad}\n`), {
    decode: (v) => normalizeAlert(v),
  });
  assert.equal(records[0]?.ok && records[0].event.rule, 'Terminal shell in container');
  const r = records[1];
  assert.ok(r !== undefined && !r.ok);
  assert.equal(r.code, 'EVENT_SCHEMA');
  assert.equal(r.path, 'time');
  const buggy = parseNdjsonBuffer(b('1\n'), {
    decode: () => {
      throw new TypeError('boom');
    },
  });
  assert.deepEqual(buggy, [{ ok: false, line: 1, code: 'EVENT_SCHEMA', reason: 'internal error: boom' }]);
});

test('keepBytes keeps each good line as sent', () => {
  const [r] = parseNdjsonBuffer(b('{"a": 1}\r\n'), { keepBytes: true });
  assert.ok(r?.ok);
  assert.equal(Buffer.from(r.bytes!).toString(), '{"a": 1}');
});

test('the real Falco alerts stream through parseNdjson from a byte stream', async () => {
  const lines = realAlertLines();
  const text = lines.map((l) => l.text).join('\n');
  const stream = Readable.from(
    Buffer.from(text)
      .toString('utf8')
      .match(/[\s\S]{1,7}/g) ?? [],
  );
  const out: NdjsonRecord<NormalizedEvent>[] = [];
  for await (const r of parseNdjson<NormalizedEvent>(stream, { decode: (v) => normalizeAlert(v) }))
    out.push(r);
  assert.equal(out.length, lines.length);
  assert.ok(out.every((r) => r.ok));
});

/** Splits `bytes` at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

const nearLimit = fc
  .tuple(fc.integer({ min: 15, max: 35 }), fc.constantFrom('a', 'é', '€', '😀'), fc.boolean())
  .map(([n, ch, bom]) => b(`${bom ? '\uFEFF' : ''}"${ch.repeat(n)}"`));
const lineBytes = fc.oneof(
  nearLimit,
  fc.constantFrom(b('\uFEFF'), b('\r'), b(' \t\r'), b('\uFEFF{"a":1}'), Buffer.from([0xef, 0xbb])),
  fc.uint8Array({ maxLength: 40 }),
  fc.jsonValue().map((v) => b(JSON.stringify(v) ?? 'null')),
  fc.constant(b(JSON.stringify(terminalShellAlert()))),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(b),
);
const document = fc
  .array(fc.tuple(lineBytes, fc.constantFrom('\n', '\r\n', '\n\n')), { maxLength: 12 })
  .map((lines) => Buffer.concat(lines.flatMap(([l, eol]) => [l, b(eol)])));

test('property: random bytes never throw, numbering is increasing, chunking does not change the result', () => {
  fc.assert(
    fc.property(
      fc.oneof(document, fc.uint8Array({ maxLength: 300 })),
      fc.array(fc.nat(), { maxLength: 8 }),
      (bytes, cuts) => {
        const whole = parseNdjsonBuffer(bytes, { maxLineBytes: 64, decode: (v) => normalizeAlert(v) });
        const streamed: NdjsonRecord<NormalizedEvent>[] = [];
        const s = new NdjsonSplitter<NormalizedEvent>(
          { maxLineBytes: 64, decode: (v) => normalizeAlert(v) },
          (r) => streamed.push(r),
        );
        for (const c of chunked(bytes, cuts)) s.push(c);
        s.end();
        const summary = (rs: NdjsonRecord<NormalizedEvent>[]): string[] =>
          rs.map((r) => (r.ok ? `${r.line}:${r.event.id}` : `${r.line}:${r.code}:${r.reason}`));
        assert.deepEqual(summary(streamed), summary(whole));
        for (let i = 1; i < whole.length; i++) assert.ok(whole[i]!.line > whole[i - 1]!.line);
        const physical = bytes.length === 0 ? 0 : Buffer.from(bytes).toString('latin1').split('\n').length;
        assert.ok(whole.length <= physical);
        for (const r of whole) if (!r.ok) assert.ok(r.reason.length <= 260, 'reasons stay short');
      },
    ),
    { numRuns: 1500 },
  );
});

test('property: the whole-region fast path gives exactly what the line-by-line path gives', () => {
  const strip = (rs: NdjsonRecord<unknown>[]): unknown[] =>
    rs.map((r) => {
      if (!r.ok) return r;
      const { bytes: _bytes, ...rest } = r;
      return rest;
    });
  fc.assert(
    fc.property(fc.oneof(document, fc.uint8Array({ maxLength: 300 })), (bytes) => {
      const fast = parseNdjsonBuffer(bytes, { maxLineBytes: 64 });
      const slow = parseNdjsonBuffer(bytes, { maxLineBytes: 64, keepBytes: true });
      assert.deepStrictEqual(strip(fast), strip(slow));
    }),
    { numRuns: 3000 },
  );
});

test('property: counting lines without parsing gives one per record', () => {
  fc.assert(
    fc.property(fc.oneof(document, fc.uint8Array({ maxLength: 200 })), (bytes) => {
      assert.equal(countNdjsonLines(bytes), parseNdjsonBuffer(bytes, { maxLineBytes: 1 << 20 }).length);
    }),
    { numRuns: 1500 },
  );
});

test('property: the UTF-8 error locator agrees with the fatal TextDecoder', () => {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 24 }),
        fc.string({ unit: 'binary', maxLength: 12 }).map((s) => new Uint8Array(b(s))),
      ),
      (bytes) => {
        let valid = true;
        try {
          decoder.decode(bytes);
        } catch {
          valid = false;
        }
        const at = firstInvalidUtf8Offset(bytes);
        assert.equal(at === -1, valid, `bytes ${Buffer.from(bytes).toString('hex')}`);
        if (!valid) assert.doesNotThrow(() => decoder.decode(bytes.subarray(0, at)));
      },
    ),
    { numRuns: 5000 },
  );
});
