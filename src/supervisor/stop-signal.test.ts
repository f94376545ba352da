/**
 * A supervised process stops by itself when its supervisor is killed (no orphan keeps the
 * platform's ports and CPU), and a stop that hangs ends at its deadline: real processes, kill -9.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'falconer-stop-signal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const support = new URL('../../test/support/', import.meta.url).pathname;

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

async function until(what: string, pred: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

for (const hang of [false, true]) {
  test(`kill -9 of the supervisor stops its child${hang ? ' (a hanging stop ends at its deadline)' : ''}`, async () => {
    const stopFile = join(dir, `stop-${hang}.txt`);
    const host = spawn(process.execPath, ['--import', 'tsx', join(support, 'stop-signal-host.ts')], {
      env: {
        ...process.env,
        LOG_DIR: join(dir, `logs-${hang}`),
        STOP_FILE: stopFile,
        HANG_ON_STOP: hang ? '1' : '0',
      },
      stdio: 'ignore',
    });
    try {
      await until('the child to start', () => /started \d+/.test(read(stopFile)));
      const childPid = Number(/started (\d+)/.exec(read(stopFile))?.[1]);
      host.kill('SIGKILL');
      await until('the child to exit', () => !alive(childPid));
      const log = read(stopFile);
      assert.match(log, /stopping: supervisor gone/);
      if (hang) assert.doesNotMatch(log, /\nstopped\n/, 'its stop never finished: the deadline ended it');
      else assert.match(log, /\nstopped\n/);
    } finally {
      host.kill('SIGKILL');
    }
  });
}
