/**
 * The real opa CLI for tests: found in ~/.cache/falconer/bin (scripts/opa.sh
 * installs it) or via OPA_BIN, and `opa run --server` on 127.0.0.1 with a
 * free port, serving a Rego bundle built from policies/rego by opa itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export const OPA_BIN =
  process.env.OPA_BIN ??
  join(process.env.FALCONER_CACHE ?? join(homedir(), '.cache', 'falconer'), 'bin', 'opa');

export function opaAvailable(): boolean {
  return existsSync(OPA_BIN) && spawnSync(OPA_BIN, ['version'], { stdio: 'ignore' }).status === 0;
}

export interface OpaServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Builds a Rego bundle of `sourceDir` with `revision`, and serves it. */
export async function startOpaServer(sourceDir: string, revision: string): Promise<OpaServer> {
  const dir = mkdtempSync(join(tmpdir(), 'falconer-opa-'));
  const bundle = join(dir, 'bundle.tar.gz');
  const build = spawnSync(
    OPA_BIN,
    ['build', '--ignore', '*_test.rego', '--revision', revision, sourceDir, '-o', bundle],
    { encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`opa build failed: ${build.stderr}`);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      OPA_BIN,
      ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '-b', bundle],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    };
    const stop = async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    };
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        const res = await fetch(`${url}/health?bundles`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return { url, process: child, stop };
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await kill();
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`opa run --server did not become healthy: ${stderr.slice(0, 500)}`);
    }
  }
}
