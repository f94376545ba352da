/**
 * The command-line tools of the deployment checks (helm, promtool, hadolint),
 * installed by scripts/helm-tools.sh into $FALCONER_CACHE/bin (default
 * ~/.cache/falconer/bin), or found on PATH.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

export const TOOLS_BIN = join(process.env.FALCONER_CACHE ?? join(homedir(), '.cache', 'falconer'), 'bin');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tool's path, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  const dirs = [TOOLS_BIN, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((d) => join(d, name)).find(executable);
}

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runTool(path: string, args: readonly string[], opts: { cwd?: string } = {}): ToolRun {
  const result = spawnSync(path, args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
    // Helm keeps its caches and config under HOME-derived paths; keep them off the repository.
    env: { ...process.env, HELM_CACHE_HOME: join(TOOLS_BIN, '..', 'helm', 'cache') },
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export const WHY_MISSING =
  'run `bash scripts/helm-tools.sh` (builds helm and promtool from the Go module proxy)';
