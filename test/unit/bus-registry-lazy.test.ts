/**
 * The Kafka client is loaded only when a Kafka bus is created: an agent that
 * uses the embedded bus (all of them by default) never pays for it. Watched
 * with a resolve hook in a fresh process, since a module once loaded here
 * stays loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REGISTRY = fileURLToPath(new URL('../../src/bus/registry.ts', import.meta.url));
const HOOK =
  'export async function resolve(s, c, next) { if (s.includes("@platformatic/kafka")) console.log("LOADED @platformatic/kafka"); return next(s, c); }';
const REGISTER = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`;

async function run(script: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      `data:text/javascript,${encodeURIComponent(REGISTER)}`,
      '--input-type=module',
      '-e',
      script,
    ],
    { timeout: 60_000 },
  );
  return stdout;
}

test('the embedded bus does not load the Kafka client; a Kafka bus does', async () => {
  const embedded = await run(
    `const { createBus } = await import(${JSON.stringify(REGISTRY)}); const bus = await createBus('embedded'); await bus.close(); console.log('kind', bus.kind);`,
  );
  assert.match(embedded, /kind embedded/);
  assert.doesNotMatch(embedded, /LOADED @platformatic\/kafka/);
  // Creating a Kafka bus (never started: no broker needed) loads it.
  const kafka = await run(
    `const { createBus } = await import(${JSON.stringify(REGISTRY)});
     const bus = await createBus('kafka', { kafka: { config: { brokers: ['127.0.0.1:1'] }, codec: { encode: (v) => Buffer.from(String(v)), decode: (b) => b.toString(), keyOf: () => 'k' } } });
     console.log('kind', bus.kind); process.exit(0);`,
  );
  assert.match(kafka, /LOADED @platformatic\/kafka/);
  assert.match(kafka, /kind kafka/);
});
