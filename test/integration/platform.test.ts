/**
 * The whole platform as separate processes on loopback: `falconer demo` and
 * `falconer up --demo` with real mTLS between the agents, a real webhook
 * receiver for notifications, and a `kill -9` of the coordinator mid-run.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, watch, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PlatformReport } from '../../src/demo/platform-report.ts';
import { PROJECT_ROOT } from '../support/paths.ts';
import { platformPorts } from '../support/platform-env.ts';

interface Hook {
  server: Server;
  url: string;
  bodies: { kind: string; dedupeKey: string; incident: { id: string; traceId: string } }[];
}

async function webhookReceiver(): Promise<Hook> {
  const bodies: Hook['bodies'] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(body) as Hook['bodies'][number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/hook`, bodies };
}

function configWithWebhook(dir: string, url: string): string {
  const file = join(dir, 'falconer.yaml');
  writeFileSync(
    file,
    [
      'notify:',
      '  sinks:',
      '    - kind: file',
      '      console: false',
      '    - kind: webhook',
      `      url: ${url}`,
      '',
    ].join('\n'),
  );
  return file;
}

function run(args: string[], env: Record<string, string>, onStart?: (pid: number) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['bin/falconer.js', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
    });
    if (child.pid !== undefined) onStart?.(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const SCENARIO = ['--minutes', '10', '--rate', '70', '--replay-rate', '8000', '--seed', '11'];

test('falconer demo: every agent its own process, incidents with verdicts and proposals, one trace per incident', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-platform-'));
  const hook = await webhookReceiver();
  try {
    const ports = await platformPorts();
    const config = configWithWebhook(dir, hook.url);
    const dataDir = join(dir, 'data');
    const { code, stdout, stderr } = await run(
      ['demo', '--json', '--quiet', '--config', config, '--data-dir', dataDir, ...SCENARIO],
      ports.env,
    );
    assert.equal(code, 0, `${stderr}\n${stdout}`);
    const report = JSON.parse(stdout) as PlatformReport;
    assert.deepEqual(report.failures, []);
    assert.equal(report.rejected, 0);
    assert.ok(report.events > 40_000, `events ${report.events}`);
    assert.ok(new Set(report.attacks.map((a) => a.kind)).size >= 6, 'every attack kind replayed');
    const detected = report.attacks.filter((a) => a.detected);
    assert.ok(detected.length >= report.attacks.length / 2, JSON.stringify(report.attacks));
    for (const a of detected) assert.ok(a.incidentId && a.msToIncident !== null && a.msToIncident >= 0);
    assert.ok(report.incidents > 0 && report.actionsProposed > 0);
    assert.equal(report.traceIdsConsistent, true);
    assert.ok(report.notifications > 0);

    // The local webhook got the incident cards, each once, with the incident's trace id.
    assert.ok(hook.bodies.length > 0);
    const keys = hook.bodies.map((b) => b.dedupeKey);
    assert.equal(new Set(keys).size, keys.length, 'no notification twice');
    for (const b of hook.bodies) assert.match(b.incident.traceId, /^[0-9a-f]{32}$/);

    // Every agent ran as its own process and logged under its own name.
    for (const agent of ['detect', 'coordinator', 'analyse', 'remediate', 'notify']) {
      const log = readFileSync(join(dataDir, 'logs', `${agent}.log`), 'utf8');
      assert.match(log, new RegExp(`"name":"falconer-${agent}"`));
      assert.match(log, /"msg":"agent ready"/);
    }
    assert.match(readFileSync(join(dataDir, 'logs', 'analyse.log'), 'utf8'), /"msg":"incident analysed"/);
    // The dev PKI: one key per agent, readable by its owner only.
    for (const agent of ['detect', 'coordinator', 'analyse', 'remediate', 'notify', 'ca']) {
      assert.equal(statSync(join(dataDir, 'pki', `${agent}.key`)).mode & 0o777, 0o600, agent);
    }
    // Every agent's audit log is intact.
    for (const agent of ['coordinator', 'remediate', 'analyse']) {
      const out = execFileSync(
        process.execPath,
        ['bin/falconer.js', 'audit', 'verify', '--json', '--db', join(dataDir, `${agent}.db`)],
        { cwd: PROJECT_ROOT, encoding: 'utf8' },
      );
      const verified = JSON.parse(out) as { ok: boolean; records: number };
      assert.equal(verified.ok, true, agent);
      assert.ok(verified.records > 0, `${agent} audited its calls`);
    }
  } finally {
    hook.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of the coordinator mid-run: it is restarted, its incidents complete, nothing is notified twice', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-crash-'));
  const hook = await webhookReceiver();
  try {
    const ports = await platformPorts();
    const config = configWithWebhook(dir, hook.url);
    const dataDir = join(dir, 'data');
    let killed = false;
    // Kill the coordinator as soon as it has opened its first incident.
    const waitForIncident = new Promise<void>((resolve) => {
      const tryWatch = () => {
        try {
          const watcher = watch(join(dataDir, 'logs'), () => {
            let log: string;
            try {
              log = readFileSync(join(dataDir, 'logs', 'coordinator.log'), 'utf8');
            } catch {
              return; // not created yet
            }
            if (!killed && log.includes('"msg":"incident opened"')) {
              killed = true;
              watcher.close();
              resolve();
            }
          });
        } catch {
          setTimeout(tryWatch, 200);
        }
      };
      tryWatch();
    });
    const runPromise = run(
      ['up', '--demo', '--exit', '--json', '--config', config, '--data-dir', dataDir, ...SCENARIO],
      ports.env,
    );
    await waitForIncident;
    const pid = execFileSync('pgrep', ['-f', `agent coordinator --data-dir ${dataDir}`], { encoding: 'utf8' })
      .trim()
      .split('\n')[0];
    assert.ok(pid, 'coordinator pid');
    process.kill(Number(pid), 'SIGKILL');
    const { stdout, stderr } = await runPromise;
    assert.match(stderr, /agent coordinator exited \(code null, signal SIGKILL\); restarting/);
    const report = JSON.parse(stdout) as PlatformReport;
    // The crash is reported as the run's only failure…
    assert.deepEqual(report.failures, ['coordinator exited unexpectedly 1 time(s)']);
    // …and the platform carried on: incidents opened, analysed, proposed, each notification sent once.
    assert.ok(report.incidents > 0 && report.actionsProposed > 0, JSON.stringify(report));
    assert.ok(report.attacks.filter((a) => a.detected).length >= report.attacks.length / 2);
    const keys = hook.bodies.map((b) => b.dedupeKey);
    assert.ok(keys.length > 0);
    assert.equal(new Set(keys).size, keys.length, 'no notification twice');
  } finally {
    hook.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
