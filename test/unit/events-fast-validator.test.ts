/**
 * The hand-written hot-path validator must agree with the documented zod schema:
 * whatever it accepts, the schema accepts with the same result, and it accepts
 * the valid alerts (so the hot path is really taken). Checked with fast-check over
 * generated valid alerts, mutated alerts and arbitrary JSON, with small limits so
 * the boundaries are hit often.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isFalconerError } from '../../src/errors.ts';
import { createFalcoAlertSchema } from '../../src/events/falco-alert.ts';
import { parseAlertFast } from '../../src/events/falco-alert-fast.ts';
import { resolveEventLimits } from '../../src/events/limits.ts';
import { createNormalizer } from '../../src/events/normalize.ts';
import { parseRfc3339 } from '../../src/events/time.ts';
import { PRIORITIES } from '../../src/events/types.ts';

const limits = resolveEventLimits({
  maxStringLength: 40,
  maxFields: 6,
  maxFieldNameLength: 12,
  maxListLength: 3,
  maxTags: 3,
});
const schema = createFalcoAlertSchema(limits);
const normalize = createNormalizer({ limits });

/** Round-trip through JSON, as input arrives on the wire (own "__proto__" keys included). */
const wire = (v: unknown): unknown => JSON.parse(JSON.stringify(v) ?? 'null');

const shortString = fc.string({ maxLength: 45 });
const priority = fc.oneof(
  fc.constantFrom(...PRIORITIES),
  fc.constantFrom(...PRIORITIES, 'info', 'Info').map((p) => p.toUpperCase()),
  fc.constantFrom(...PRIORITIES, 'info').map((p) => p.toLowerCase()),
);
const rfc3339 = fc
  .tuple(
    fc.date({
      min: new Date('0001-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    }),
    fc.integer({ min: 0, max: 9 }),
    fc.integer({ min: 0, max: 999_999_999 }),
    fc.oneof(fc.constant('Z'), fc.constant('z'), fc.constantFrom('+00:00', '-04:30', '+14:00', '+05:45')),
  )
  .map(([d, digits, ns, zone]) => {
    const base = d.toISOString().slice(0, 19);
    const fraction = digits === 0 ? '' : `.${String(ns).padStart(9, '0').slice(0, digits)}`;
    return `${base}${fraction}${zone}`;
  });
const scalar = fc.oneof(
  shortString,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const fieldValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }));
const fieldKey = fc.oneof(
  fc.constantFrom(
    'proc.cmdline',
    'proc.pid',
    'container.id',
    'k8s.ns.name',
    'k8s.pod.name',
    'evt.time',
    '__proto__',
    'constructor',
  ),
  fc.string({ maxLength: 14 }),
);
const outputFields = fc.dictionary(fieldKey, fieldValue, { maxKeys: 7 });

const validAlert = fc.record(
  {
    hostname: fc.string({ maxLength: 40 }),
    output: fc.string({ maxLength: 40 }),
    priority,
    rule: fc.string({ minLength: 1, maxLength: 40 }),
    source: fc.constantFrom('syscall', 'k8s_audit', 'aws_cloudtrail', 'okta'),
    tags: fc.oneof(fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }), fc.constant(null)),
    time: rfc3339,
    output_fields: fc.oneof(
      fc.dictionary(
        fc.string({ maxLength: 12 }).filter((k) => k !== '__proto__'),
        fieldValue.filter(isWithinLimits),
        {
          maxKeys: 6,
        },
      ),
      fc.constant(null),
    ),
    uuid: fc.uuid(),
    label: fc.jsonValue(),
  },
  { requiredKeys: ['priority', 'rule', 'time'] },
);

function isWithinLimits(v: unknown): boolean {
  if (Array.isArray(v)) return v.length <= 3 && v.every(isWithinLimits);
  return typeof v !== 'string' || v.length <= 40;
}

/** A valid alert with one key replaced by anything, removed, or pushed past a limit. */
const mutatedAlert = fc
  .tuple(
    validAlert,
    fc.constantFrom(
      'hostname',
      'output',
      'priority',
      'rule',
      'source',
      'tags',
      'time',
      'output_fields',
      'uuid',
    ),
    fc.oneof(
      fc.jsonValue(),
      outputFields,
      fc.array(shortString, { maxLength: 5 }),
      shortString,
      fc.constant(undefined),
    ),
  )
  .map(([alert, key, value]) => {
    const copy: Record<string, unknown> = { ...alert };
    if (value === undefined) delete copy[key];
    else copy[key] = value;
    return copy;
  });

function checkAgreement(raw: unknown): { fast: boolean; zod: boolean } {
  const fast = parseAlertFast(raw, limits);
  const zod = schema.safeParse(raw);
  if (fast !== undefined) {
    assert.ok(
      zod.success,
      `fast path accepted what the schema rejects: ${JSON.stringify(zod.error?.issues[0])}`,
    );
    assert.deepStrictEqual(fast, zod.data);
  }
  // Whatever the path, normalize either succeeds or throws a located EVENT_SCHEMA error.
  try {
    const e = normalize(raw);
    assert.ok(zod.success, 'normalize accepted what the schema rejects');
    assert.match(e.id, /^[0-9a-f]{32}$/);
    assert.ok(Number.isFinite(e.timeMs));
  } catch (err) {
    if (!isFalconerError(err, 'EVENT_SCHEMA')) throw err;
    assert.ok(!zod.success, 'normalize rejected what the schema accepts');
    assert.equal(typeof err.context.path, 'string');
    assert.equal(typeof err.context.reason, 'string');
  }
  return { fast: fast !== undefined, zod: zod.success };
}

test('generated valid alerts: the fast path accepts them, exactly as the schema does', () => {
  fc.assert(
    fc.property(validAlert, (alert) => {
      const { fast, zod } = checkAgreement(wire(alert));
      assert.ok(zod, 'generated alert should be valid');
      assert.ok(fast, 'the fast path must take valid alerts');
    }),
    { numRuns: 1500 },
  );
});

test('mutated alerts: fast path and schema agree, errors are located', () => {
  let rejected = 0;
  fc.assert(
    fc.property(mutatedAlert, (alert) => {
      if (!checkAgreement(wire(alert)).zod) rejected++;
    }),
    { numRuns: 3000 },
  );
  assert.ok(rejected > 300, `mutations should often be invalid (${rejected})`);
});

test('arbitrary field maps (incl. "__proto__", over-long keys and values, nesting): agreement', () => {
  fc.assert(
    fc.property(
      validAlert,
      fc.oneof(outputFields, fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 9 })),
      (alert, fields) => {
        checkAgreement(wire({ ...alert, output_fields: fields }));
      },
    ),
    { numRuns: 2000 },
  );
});

test('arbitrary JSON values: agreement, never a crash', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      checkAgreement(wire(v));
    }),
    { numRuns: 2000 },
  );
});

test('parseRfc3339 agrees with Date.parse on ISO strings with milliseconds', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('0001-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      (d) => {
        const iso = d.toISOString();
        assert.equal(parseRfc3339(iso), d.getTime());
      },
    ),
    { numRuns: 2000 },
  );
});
