import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { isFalconerError } from '../../src/errors.ts';
import { stripPositions, type Expr } from '../../src/rules/ast.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { joinCondition } from '../../src/rules/model.ts';
import { parseCondition } from '../../src/rules/parser.ts';
import { printCondition, printValue } from '../../src/rules/print.ts';
import { SHARED_DATA } from '../support/paths.ts';

const noPos = (e: Expr): unknown => stripPositions(e);

function roundTrips(text: string): void {
  const a = parseCondition(text);
  const printed = printCondition(a);
  assert.deepEqual(noPos(parseCondition(printed)), noPos(a), `round trip of ${text} via ${printed}`);
}

test('parses every operator, field arguments, lists, list refs and transformers', () => {
  const cases = [
    'proc.name = bash',
    'proc.name == "ba sh"',
    'proc.name != bash',
    'proc.pid < 10 and proc.pid <= 0x1F and proc.pid > -1 and proc.pid >= 1.5e+3',
    'fd.name contains /etc and fd.name icontains ETC and fd.name bcontains 2f657463',
    'fd.name startswith /etc and fd.name bstartswith 2f and fd.name endswith passwd',
    'fd.name glob "/etc/*" and fd.name iglob "/ETC/?asswd" and fd.name regex "^/etc/.*"',
    'fd.name pmatch (/etc, /usr/bin) and proc.name in (bash, "sh", \'zsh\') and ka.user.groups intersects (a)',
    'proc.name in shell_binaries',
    'proc.aname[2] = bash and evt.arg.flags contains O_WRONLY and jevt.value[/stage] = ResponseComplete',
    'jevt.value["/requestObject/spec"] exists and ka.req.pod.containers.image exists',
    'tolower(proc.name) = bash and proc.name = val(proc.pname) and len(proc.args) > 0',
    'not proc.name = a and not (a or b) and not(c) and not not d',
    'proc.name in ()',
    'a or b and c or (d and (e or f))',
  ];
  for (const c of cases) roundTrips(c);
  const e = parseCondition('proc.aname[2] in (sh, bash)');
  assert.equal(e.kind, 'binary');
  if (e.kind === 'binary') {
    assert.deepEqual(e.field, { kind: 'field', name: 'proc.aname', arg: '2', pos: 0 });
    assert.deepEqual(e.value, { kind: 'list', values: ['sh', 'bash'], pos: 17 });
  }
  // a bare `a.b` right of an operator is a string, as in Falco
  const v = parseCondition('ka.target.name = foo.bar');
  assert.equal(v.kind === 'binary' && v.value.kind, 'value');
  // `not not x` collapses like libsinsp; `not (not x)` does not
  assert.equal(parseCondition('not not x').kind, 'ident');
  assert.equal(parseCondition('not (not x)').kind, 'not');
});

test('quoted strings decode Falco escapes and print back', () => {
  const e = parseCondition('a.b = "x\\ty\\"z\\\\w\\/"');
  assert.equal(e.kind === 'binary' && e.value.kind === 'value' && e.value.value, 'x\ty"z\\w/');
  for (const v of [
    'a b',
    'tab\there',
    'q"uote',
    "s'ingle",
    'back\\slash',
    'ends with \\',
    '',
    '(x)',
    'a,b',
    'a=b',
  ])
    assert.deepEqual(
      noPos(parseCondition(`a.b = ${printValue(v)}`)),
      noPos({
        kind: 'binary',
        field: { kind: 'field', name: 'a.b', pos: 0 },
        op: '=',
        value: { kind: 'value', value: v, pos: 0 },
        pos: 0,
      }),
    );
});

test('errors are located FalconerErrors with the offending text', () => {
  const cases: [string, number, number, RegExp][] = [
    ['proc.name = ', 1, 13, /expected a string value/],
    ['proc.name bogus x', 1, 11, /expected a valid check operator/],
    ['a and\n  (b or c', 2, 10, /expected a '\)' token/],
    ['a.b = "unterminated', 1, 7, /unterminated quoted string/],
    ['a.b = "bad \\q escape"', 1, 12, /unsupported string escape/],
    ['a.b < abc', 1, 7, /expected a number/],
    ['a b', 1, 3, /unexpected token/],
    ['', 1, 1, /empty/],
  ];
  for (const [text, line, column, message] of cases) {
    assert.throws(
      () => parseCondition(text),
      (err: unknown) => {
        assert.ok(isFalconerError(err, 'RULES_CONDITION_SYNTAX'), String(err));
        assert.equal(err.context.line, line, text);
        assert.equal(err.context.column, column, text);
        assert.match(String(err.context.message), message);
        assert.equal(typeof err.context.text, 'string');
        return true;
      },
    );
  }
  assert.throws(() => parseCondition('('.repeat(5000) + 'a' + ')'.repeat(5000)), /max nesting depth/);
});

function officialConditions(): string[] {
  const dir = join(SHARED_DATA, 'falco', 'rules');
  const out: string[] = [];
  for (const f of [
    'falco_rules.yaml',
    'falco-incubating_rules.yaml',
    'falco-sandbox_rules.yaml',
    'k8s_audit_rules_legacy.yaml',
  ]) {
    const m = loadRules([{ file: f, text: readFileSync(join(dir, f), 'utf8') }]);
    for (const x of [...m.rules.values(), ...m.macros.values()]) out.push(joinCondition(x.condition).text);
  }
  return out;
}

/** Parse must return an AST or throw a located FalconerError — nothing else, never hang. */
function parseTotal(text: string): void {
  try {
    const ast = parseCondition(text);
    const printed = printCondition(ast);
    assert.deepEqual(noPos(parseCondition(printed)), noPos(ast));
  } catch (err) {
    if (!isFalconerError(err, 'RULES_CONDITION_SYNTAX')) throw err;
    assert.ok(Number.isInteger(err.context.line) && Number.isInteger(err.context.column));
  }
}

test('fuzz: random input never throws anything but a located error', () => {
  const alphabet = fc.constantFrom(...'abcdefgnotrandsi .()[]"\'\\,=!<>/*?0123456789\n\t-_'.split(''));
  fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 80 }), parseTotal), { numRuns: 3000 });
  fc.assert(fc.property(fc.string({ maxLength: 60 }), parseTotal), { numRuns: 1000 });
});

test('fuzz: mutated official conditions never throw anything but a located error', () => {
  const conditions = officialConditions();
  const mutation = fc.record({
    index: fc.nat(conditions.length - 1),
    at: fc.nat(),
    cut: fc.nat(8),
    insert: fc.string({
      unit: fc.constantFrom(...'()"\' ,=and or not in exists[]\\'.split('')),
      maxLength: 6,
    }),
  });
  fc.assert(
    fc.property(mutation, ({ index, at, cut, insert }) => {
      const text = conditions[index]!;
      const p = at % (text.length + 1);
      parseTotal(text.slice(0, p) + insert + text.slice(p + cut));
    }),
    { numRuns: 1500 },
  );
});
