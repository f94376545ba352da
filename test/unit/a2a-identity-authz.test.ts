import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  agentFromSpiffeId,
  agentSpiffeId,
  parseSpiffeId,
  spiffeIdFromSubjectAltName,
  uriSansFromSubjectAltName,
} from '../../src/a2a/identity.ts';
import { AUTHORIZATION_TABLE, authorize, skillsOf } from '../../src/a2a/authz.ts';
import { isFalconerError } from '../../src/errors.ts';

const TD = 'falconer.local';
const id = (agent: Parameters<typeof agentSpiffeId>[2]) => agentSpiffeId(TD, 'default', agent);

test('SPIFFE ids format and map back to agents', () => {
  assert.equal(id('detect'), 'spiffe://falconer.local/ns/default/sa/falconer-detect');
  assert.equal(agentFromSpiffeId(id('notify'), TD, 'default'), 'notify');
  assert.equal(agentFromSpiffeId(id('notify'), 'other.local', 'default'), undefined);
  assert.equal(agentFromSpiffeId(id('notify'), TD, 'prod'), undefined);
  assert.equal(
    agentFromSpiffeId('spiffe://falconer.local/ns/default/sa/falconer-evil', TD, 'default'),
    undefined,
  );
  assert.equal(
    agentFromSpiffeId('spiffe://falconer.local/ns/default/sa/falconer-detect/x', TD, 'default'),
    undefined,
  );
  assert.equal(agentFromSpiffeId('spiffe://falconer.local/ns/default/sa/detect', TD, 'default'), undefined);
});

test('SPIFFE parsing refuses odd input', () => {
  for (const bad of [
    'http://falconer.local/ns/default',
    'spiffe://FALCONER.local/x',
    'spiffe://falconer.local/ns/../sa/x',
    'spiffe://falconer.local/ns/%2e%2e',
    'spiffe://falconer.local/ns//sa',
    'spiffe://falconer.local/ns/default?x=1',
    'spiffe://falconer.local/ns/default#f',
    'spiffe://user@falconer.local/ns',
    'spiffe://falconer.local/ns/dé',
    'spiffe://falconer.local/' + 'a'.repeat(3000),
  ]) {
    assert.throws(
      () => parseSpiffeId(bad),
      (e: unknown) => isFalconerError(e, 'A2A_SPIFFE_INVALID'),
      bad,
    );
  }
});

test('subjectaltname: exactly one spiffe URI, quoted values decoded, smuggling refused', () => {
  const one = `DNS:localhost, URI:${id('detect')}, IP Address:127.0.0.1`;
  assert.equal(spiffeIdFromSubjectAltName(one), id('detect'));
  // Two SPIFFE URIs: ambiguous, no identity.
  assert.equal(spiffeIdFromSubjectAltName(`URI:${id('detect')}, URI:${id('coordinator')}`), undefined);
  // A comma inside a value is quoted by Node; it must not split into a second SAN.
  const smuggled = `URI:"http://x/, URI:${id('coordinator')}"`;
  assert.deepEqual(uriSansFromSubjectAltName(smuggled), [`http://x/, URI:${id('coordinator')}`]);
  assert.equal(spiffeIdFromSubjectAltName(smuggled), undefined);
  // A non-SPIFFE URI beside the SPIFFE one is fine.
  assert.equal(spiffeIdFromSubjectAltName(`URI:https://example.com, URI:${id('analyse')}`), id('analyse'));
  assert.equal(spiffeIdFromSubjectAltName(undefined), undefined);
  assert.equal(spiffeIdFromSubjectAltName('DNS:localhost'), undefined);
  // Malformed quoting: no identity.
  assert.equal(spiffeIdFromSubjectAltName(`URI:"${id('detect')}`), undefined);
});

test('subjectaltname parsing never throws and never invents an identity', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const got = spiffeIdFromSubjectAltName(s);
      if (got !== undefined) assert.ok(s.includes(got) || s.includes(JSON.stringify(got).slice(1, -1)));
    }),
    { numRuns: 500 },
  );
});

test('authorization follows the table in docs/agents.md', () => {
  const peer = (agent: Parameters<typeof agentSpiffeId>[2]) => ({ spiffeId: id(agent), agent });
  assert.equal(authorize(peer('detect'), 'coordinator', 'signal.report').allowed, true);
  assert.equal(authorize(peer('analyse'), 'detect', 'events.query').allowed, true);
  assert.equal(authorize(peer('coordinator'), 'detect', 'events.query').allowed, true);
  const denied = authorize(peer('notify'), 'detect', 'events.query');
  assert.equal(denied.allowed, false);
  assert.match(
    denied.reason,
    /notify .* may not call detect\/events\.query; allowed callers: analyse, coordinator/,
  );
  assert.equal(authorize(peer('coordinator'), 'remediate', 'actions.delete-everything').allowed, false);
  assert.equal(authorize(undefined, 'detect', 'events.query').allowed, false);
  assert.equal(
    authorize({ spiffeId: 'spiffe://x/y', agent: undefined }, 'detect', 'events.query').allowed,
    false,
  );
  assert.deepEqual(skillsOf('remediate'), ['actions.propose', 'actions.execute', 'actions.rollback']);
  // One row per (agent, skill): no skill is granted twice.
  assert.equal(
    AUTHORIZATION_TABLE.length,
    new Set(AUTHORIZATION_TABLE.map((g) => `${g.agent}/${g.skill}`)).size,
  );
  // Every allowed pair, and only those.
  const agents = ['detect', 'coordinator', 'analyse', 'remediate', 'notify'] as const;
  let allowed = 0;
  for (const g of AUTHORIZATION_TABLE)
    for (const caller of agents) if (authorize(peer(caller), g.agent, g.skill).allowed) allowed++;
  const granted = AUTHORIZATION_TABLE.reduce(
    (n, g) => n + g.callers.filter((c) => (agents as readonly string[]).includes(c)).length,
    0,
  );
  assert.equal(allowed, granted);
  // The MCP tool server's identity is a caller, never an agent with skills.
  assert.equal(authorize(peer('mcp'), 'detect', 'events.search').allowed, true);
  assert.equal(authorize(peer('mcp'), 'detect', 'events.query').allowed, false);
});
