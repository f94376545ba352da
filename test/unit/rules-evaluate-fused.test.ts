import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Expr } from '../../src/rules/ast.ts';
import { compileCondition } from '../../src/rules/evaluate.ts';
import { syscallFields, type OutputFields } from '../../src/rules/fields/syscall.ts';
import { parseCondition } from '../../src/rules/parser.ts';
import { printCondition } from '../../src/rules/print.ts';

// Checks on one field inside an and/or are fused (the field is read once per
// event); this property says fusion never changes a result: the fused
// and/or equals every/some of the checks compiled one by one.
const words = ['a', 'ab', 'AB', 'zz', '/tmp', '/tmp/x', 'b-1', '.*', 'x y'];
const value = fc.oneof(
  fc.constantFrom(...words),
  fc.string({ maxLength: 6 }),
  fc.integer({ min: -3, max: 3 }),
  fc.constant(null),
  fc.array(fc.oneof(fc.constantFrom(...words), fc.constant(null)), { maxLength: 3 }),
);
const check = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('=', '!=', 'contains', 'icontains', 'startswith', 'endswith', 'glob'),
      fc.constantFrom(...words, '1', '-2'),
    )
    .map(([op, v]) => `f.x ${op} ${JSON.stringify(v)}`),
  fc
    .tuple(
      fc.constantFrom('in', 'intersects', 'pmatch'),
      fc.array(fc.constantFrom(...words), { minLength: 1 }),
    )
    .map(([op, vs]) => `f.x ${op} (${vs.map((v) => JSON.stringify(v)).join(', ')})`),
  fc.constantFrom('f.y = a', 'f.x exists', 'not f.x = zz'),
);

test('fused checks on one field evaluate exactly as the checks one by one', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('and', 'or'),
      fc.array(check, { minLength: 2, maxLength: 8 }),
      value,
      value,
      (kind, checks, x, y) => {
        const ev: OutputFields = { ...(x === undefined ? {} : { 'f.x': x }), 'f.y': y };
        const whole = compileCondition(parseCondition(checks.join(` ${kind} `)), syscallFields);
        const one = checks.map((c) => compileCondition(parseCondition(c), syscallFields)(ev));
        assert.equal(whole(ev), kind === 'and' ? one.every(Boolean) : one.some(Boolean));
      },
    ),
    { numRuns: 3000 },
  );
});

test('a long contains chain (regex alternation) matches exactly the literals, special characters included', () => {
  const lits = ['a.b', 'x*', '(y)', '[z]', 'q|r', '\\s', 'end$', '^st', '-n', '/p/'];
  const expr: Expr = parseCondition(
    lits.map((l) => `proc.cmdline contains ${JSON.stringify(l)}`).join(' or '),
  );
  const m = compileCondition(expr, syscallFields);
  for (const l of lits) assert.equal(m({ 'proc.cmdline': `pre ${l} post` }), true, printCondition(expr));
  for (const s of ['ab', 'xx', 'y', 'z', 'q', 'r', 's', 'end', 'st', 'n', 'p']) {
    assert.equal(m({ 'proc.cmdline': s }), false, s);
  }
  assert.equal(m({ 'proc.cmdline': ['nothing', 'has x* here'] }), true);
  assert.equal(m({}), false);
});
