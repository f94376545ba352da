import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileCondition } from '../../src/rules/evaluate.ts';
import { k8sAuditFields } from '../../src/rules/fields/k8s-audit.ts';
import { syscallFields, type OutputFields } from '../../src/rules/fields/syscall.ts';
import { parseCondition } from '../../src/rules/parser.ts';
import { isFalconerError } from '../../src/errors.ts';
import { SHARED_DATA } from '../support/paths.ts';

const sys = (cond: string) => compileCondition(parseCondition(cond), syscallFields);

test('operators follow Falco semantics on output_fields', () => {
  const ev: OutputFields = {
    'proc.name': 'bash',
    'proc.pid': 42,
    'proc.tty': 0,
    'fd.name': '/etc/shadow',
    'proc.aname[2]': 'nginx',
    'evt.arg.flags': 'O_RDONLY|O_CLOEXEC',
    'container.privileged': true,
    'proc.args': ['-c', 'id'],
    'proc.aname[3]': null,
  };
  const yes = [
    'proc.name = bash',
    'proc.name == bash',
    'proc.name != sh',
    'proc.pid = 42 and proc.pid > 41 and proc.pid >= 42 and proc.pid < 0x2B and proc.pid <= 42',
    'proc.tty = 0',
    'fd.name contains shad and fd.name icontains SHAD and fd.name startswith /etc and fd.name endswith dow',
    'fd.name bcontains 736861646f77 and fd.name bstartswith 2f657463',
    'fd.name glob "/etc/*" and fd.name glob "/etc/sh?dow" and fd.name iglob "/ETC/[s]hadow" and not fd.name glob "/etc"',
    'fd.name regex "/etc/s.*" and not fd.name regex "etc"',
    'fd.name pmatch (/etc) and fd.name pmatch (/usr, /etc/) and not fd.name pmatch (/et)',
    'proc.name in (sh, bash) and proc.pid in (41, 42) and not proc.name in (sh)',
    'proc.aname[2] = nginx and evt.arg.flags contains O_RDONLY',
    'container.privileged = true',
    'proc.args intersects (id) and proc.args in (-c, id) and not proc.args in (id)',
    'tolower(proc.name) = bash and toupper(proc.name) = BASH and basename(fd.name) = shadow and len(proc.name) = 4',
    'proc.name exists and not proc.aname[3] exists and not missing.field exists',
  ];
  for (const c of yes) assert.equal(sys(c)(ev), true, c);
  const no = [
    'proc.name = sh',
    'proc.pid > 42',
    'fd.name glob "/etc"',
    'proc.name in ()',
    'proc.name = val(proc.pid)',
  ];
  for (const c of no) assert.equal(sys(c)(ev), false, c);
});

test('missing fields: every comparison is false, not of it is true', () => {
  for (const op of [
    '= x',
    '!= x',
    '< 1',
    'contains x',
    'startswith x',
    'glob *',
    'in (x)',
    'intersects (x)',
    'pmatch (/)',
    'exists',
  ]) {
    assert.equal(sys(`absent.field ${op}`)({}), false, op);
    assert.equal(sys(`not absent.field ${op}`)({}), true, op);
    assert.equal(sys(`null.field ${op}`)({ 'null.field': null }), false, op);
  }
});

test('compile errors are located', () => {
  assert.throws(
    () => compileCondition(parseCondition('ka.verb = get and ka.nope = 1'), k8sAuditFields),
    (err: unknown) =>
      isFalconerError(err, 'RULES_COMPILE') &&
      /unknown field 'ka.nope'/.test(err.message) &&
      err.context.column === 19,
  );
  assert.throws(() => sys('a.b bcontains zz'), /hex/);
  assert.throws(() => sys('a.b regex "("'), /invalid regex/);
});

test('k8s audit extractors read real audit events', () => {
  const read = (f: string) => JSON.parse(readFileSync(join(SHARED_DATA, 'k8s_audit', f), 'utf8')) as unknown;
  const k = (cond: string) => compileCondition(parseCondition(cond), k8sAuditFields);
  const priv = read('create_nginx_pod_privileged_2nd_container.json');
  assert.equal(k('ka.req.pod.containers.privileged intersects (true)')(priv), true);
  assert.equal(
    k('ka.verb = create and ka.target.resource = pods and not ka.target.subresource exists')(priv),
    true,
  );
  assert.equal(
    k('ka.response.code startswith 2 and jevt.value[/stage] = ResponseComplete and jevt.rawtime exists')(
      priv,
    ),
    true,
  );
  assert.equal(k('ka.req.pod.containers.image.repository intersects (nginx)')(priv), true);
  const exec = read('exec_pod.json');
  assert.equal(
    k('ka.target.subresource in (exec, attach) and jevt.value[/stage] = ResponseStarted')(exec),
    true,
  );
  const role = read('create_cluster_role_wildcard_verbs.json');
  assert.equal(k('ka.req.role.rules.verbs intersects ("*")')(role), true);
  const mount = read('create_nginx_pod_sensitive_mount.json');
  assert.equal(k('ka.req.pod.volumes.hostpath intersects (/etc)')(mount), true);
  assert.equal(k('ka.req.volume.hostpath[/etc*] = true')(mount), true);
  // every trace parses as JSON objects with a verb
  for (const f of readdirSync(join(SHARED_DATA, 'k8s_audit')).filter((x) => x.endsWith('.json'))) {
    for (const line of readFileSync(join(SHARED_DATA, 'k8s_audit', f), 'utf8')
      .split('\n')
      .filter(Boolean))
      assert.equal(k('ka.verb exists')(JSON.parse(line)), true, f);
  }
});
