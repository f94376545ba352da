/** The pure parts of the MCP server: scopes, ranges, workload keys, bounds, search order, config. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigSchema } from '../config/schema.ts';
import { isFalconerError } from '../errors.ts';
import { EventStore } from '../store/event-store.ts';
import { boundEvent, boundEvents, clip } from './bound.ts';
import { McpConfigSchema, resolveMcpConfig } from './config.ts';
import { parseListen } from './run.ts';
import { scopeForAuthorization } from './http.ts';
import { searchEvents } from './queries/search.ts';
import {
  assertRange,
  namespaceAllowed,
  namespaceOfWorkloadKey,
  podOfWorkloadKey,
  toolAllowed,
} from './scope.ts';
import { sampleEvents } from '../../test/mcp/fixtures.ts';

const DAY = 24 * 3_600_000;

test('workload keys: namespace and pod, percent-encoded parts, other kinds have none', () => {
  assert.equal(namespaceOfWorkloadKey('pod:default/shop/web-1'), 'shop');
  assert.deepEqual(podOfWorkloadKey('pod:c/a%2Fb/p%25q'), { namespace: 'a/b', pod: 'p%q' });
  assert.equal(namespaceOfWorkloadKey('container:worker-1/abc'), undefined);
  assert.equal(namespaceOfWorkloadKey('host:worker-1'), undefined);
  assert.equal(namespaceOfWorkloadKey('pod:c/%E0%A4%A/p'), undefined, 'bad encoding: no namespace');
  assert.equal(namespaceOfWorkloadKey('pod:c/shop/p/extra'), undefined);
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), (s) => {
      namespaceOfWorkloadKey(s); // never throws
      return true;
    }),
  );
});

test('scopes: * sees everything, a list sees its namespaces only, tools narrow', () => {
  const all = { name: 'a', namespaces: ['*'] };
  const shop = { name: 's', namespaces: ['shop'], tools: ['events.search'] };
  assert.equal(namespaceAllowed(all, undefined), true);
  assert.equal(namespaceAllowed(shop, undefined), false, 'host data needs the full scope');
  assert.equal(namespaceAllowed(shop, 'shop'), true);
  assert.equal(namespaceAllowed(shop, 'billing'), false);
  assert.equal(toolAllowed(shop, 'incident.get'), false);
  assert.equal(toolAllowed(all, 'incident.get'), true);
});

test('ranges: capped, open ends count to now, reversed refused', () => {
  const now = 100 * DAY;
  assert.doesNotThrow(() => assertRange({ fromMs: now - 7 * DAY, toMs: now }, 7 * DAY, now));
  assert.doesNotThrow(() => assertRange({}, 7 * DAY, now));
  assert.doesNotThrow(() => assertRange({ toMs: 0 }, 7 * DAY, now));
  const code = (f: () => void) => {
    try {
      f();
      return 'none';
    } catch (err) {
      return isFalconerError(err) ? err.code : 'other';
    }
  };
  assert.equal(
    code(() => assertRange({ fromMs: now - 8 * DAY }, 7 * DAY, now)),
    'MCP_RANGE_TOO_LONG',
  );
  assert.equal(
    code(() => assertRange({ fromMs: 0, toMs: 8 * DAY }, 7 * DAY, now)),
    'MCP_RANGE_TOO_LONG',
  );
  assert.equal(
    code(() => assertRange({ fromMs: 10, toMs: 5 }, 7 * DAY, now)),
    'MCP_INVALID_ARGUMENTS',
  );
});

test('bounds: strings clipped, fields capped, the events budget cuts whole events', () => {
  assert.equal(clip('abcdef', 4), 'abc…');
  const [e] = sampleEvents();
  const fat = {
    ...e!,
    output: 'o'.repeat(20_000),
    fields: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f.${i}`, 'v'.repeat(2000)])),
  };
  const b = boundEvent(fat);
  assert.equal(b.output.length, 1000);
  assert.equal(Object.keys(b.fields).length, 48);
  assert.equal(b.omittedFields, 52);
  assert.ok(Object.values(b.fields).every((v) => typeof v !== 'string' || v.length <= 512));
  const cut = boundEvents(
    Array.from({ length: 50 }, () => fat),
    100_000,
  );
  assert.equal(cut.cut, true);
  assert.ok(JSON.stringify(cut.events).length <= 100_000 + 30_000);
});

test('search keeps the newest matches in order whatever the limit', () => {
  const store = new EventStore();
  const events = sampleEvents();
  store.add(events);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 70 }), (limit) => {
      const out = searchEvents(store, { limit });
      const expected = [...events]
        .reverse()
        .slice(0, limit)
        .map((e) => e.id);
      assert.deepEqual(
        out.events.map((e) => e.id),
        expected,
      );
      assert.equal(out.truncated, events.length > limit);
      return true;
    }),
    { numRuns: 40 },
  );
});

test('bearer tokens: the scope of the matching token, nothing for others', () => {
  const creds = [
    { token: 'token-one-0123456789', scope: { name: 'one', namespaces: ['*'] } },
    { token: 'token-two-0123456789', scope: { name: 'two', namespaces: ['b'] } },
  ];
  assert.equal(scopeForAuthorization(creds, 'Bearer token-two-0123456789')?.name, 'two');
  assert.equal(scopeForAuthorization(creds, 'Bearer token-two-012345678'), undefined);
  assert.equal(scopeForAuthorization(creds, 'bearer token-two-0123456789'), undefined);
  assert.equal(scopeForAuthorization(creds, undefined), undefined);
  assert.equal(scopeForAuthorization([], 'Bearer x'), undefined);
});

test('config: defaults, token sources, dev PKI paths, peer URLs; --listen parsing', () => {
  const config = ConfigSchema.parse({ dataDir: '/tmp/falconer-x' });
  const mcp = McpConfigSchema.parse({
    token: 'a-token-of-16-chars',
    tokens: [{ scope: { name: 'b', namespaces: ['b'] }, token: 'another-token-0123' }],
  });
  assert.equal(mcp.port, 7700);
  assert.equal(mcp.maxRangeMs, 7 * DAY);
  const r = resolveMcpConfig(mcp, config);
  assert.deepEqual(
    r.credentials.map((c) => c.scope.name),
    ['default', 'b'],
  );
  assert.equal(r.tls.certFile, '/tmp/falconer-x/pki/mcp.crt');
  assert.equal(r.detectUrl, 'https://localhost:7401');
  assert.throws(
    () =>
      resolveMcpConfig(
        McpConfigSchema.parse({
          token: 'same-token-0123456',
          tokens: [{ scope: { name: 'b', namespaces: ['*'] }, token: 'same-token-0123456' }],
        }),
        config,
      ),
    /share one token/,
  );
  assert.throws(() => McpConfigSchema.parse({ tokens: [{ scope: { name: 'x', namespaces: [] } }] }));
  assert.deepEqual(parseListen('127.0.0.1:7700'), { host: '127.0.0.1', port: 7700 });
  assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListen('7700'), { host: '127.0.0.1', port: 7700 });
  assert.throws(() => parseListen('host:99999'), /--listen/);
});
