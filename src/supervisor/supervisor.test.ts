import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { nextAttempt, restartDelay, type BackoffPolicy } from './backoff.ts';
import { Supervisor, type SupervisorEvent } from './supervisor.ts';

const policy: BackoffPolicy = { initialMs: 20, maxMs: 100, stableAfterMs: 1_000, jitter: 0 };

test('backoff doubles up to its cap and resets after a stable run', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((a) => restartDelay(policy, a)),
    [20, 40, 80, 100, 100],
  );
  assert.equal(nextAttempt(policy, 4, 10), 5);
  assert.equal(nextAttempt(policy, 4, 5_000), 1);
  const jittered = { ...policy, jitter: 0.5 };
  assert.equal(
    restartDelay(jittered, 1, () => 0),
    10,
  );
  assert.equal(
    restartDelay(jittered, 1, () => 1),
    30,
  );
});

async function waitForLog(file: string, pattern: RegExp, count: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not created yet
    }
    if ((text.match(pattern) ?? []).length >= count) return;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${String(pattern)} x${count} in ${file}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function waitFor(events: SupervisorEvent[], pred: (e: SupervisorEvent) => boolean, ms = 10_000) {
  return new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      if (events.some(pred)) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out: ${JSON.stringify(events)}`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

test('a crashed process is restarted, a killed one too, and stop ends them all', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-sup-'));
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor({
    logDir: dir,
    backoff: policy,
    stopGraceMs: 2_000,
    onEvent: (e) => events.push(e),
  });
  try {
    // Crashes once (exit 3), then stays up: the marker file says it already ran.
    const marker = join(dir, 'ran-once');
    const script = `
      const fs = require('node:fs');
      // The handler first: once 'hello' is logged, a SIGTERM is answered with 'bye'.
      process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
      console.log(JSON.stringify({ msg: 'hello', pid: process.pid }));
      if (!fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, '1'); process.exit(3); }
      setInterval(() => {}, 1000);`;
    sup.start({ name: 'crashy', command: process.execPath, args: ['-e', script] });
    await waitFor(events, (e) => e.kind === 'exited' && e.code === 3 && e.restartInMs === 20);
    await waitFor(events, (e) => e.kind === 'started' && e.restarts === 1);
    await waitForLog(sup.logFile('crashy'), /"msg":"hello"/g, 2);
    const pid = sup.pid('crashy');
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(events, (e) => e.kind === 'exited' && e.signal === 'SIGKILL');
    await waitFor(events, (e) => e.kind === 'started' && e.restarts === 2);
    await waitForLog(sup.logFile('crashy'), /"msg":"hello"/g, 3);
    assert.equal(sup.restarts('crashy'), 2);
    await sup.stop();
    assert.ok(events.some((e) => e.kind === 'stopped' && e.name === 'crashy'));
    const log = readFileSync(sup.logFile('crashy'), 'utf8');
    assert.equal(log.match(/"msg":"hello"/g)?.length, 3);
    assert.match(log, /bye/);
  } finally {
    await sup.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stop kills a process that ignores SIGTERM after the grace period', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-sup-'));
  const events: SupervisorEvent[] = [];
  const sup = new Supervisor({
    logDir: dir,
    backoff: policy,
    stopGraceMs: 200,
    onEvent: (e) => events.push(e),
  });
  try {
    sup.start({
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);"],
    });
    await waitForLog(sup.logFile('stubborn'), /up/g, 1); // its SIGTERM handler is installed
    await sup.stop();
    assert.ok(
      events.some((e) => e.kind === 'exited' && e.signal === 'SIGKILL' && e.restartInMs === null),
      JSON.stringify(events),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
