/**
 * Runs each agent as its own OS process, the way Kubernetes runs each as its
 * own Deployment: a crashed agent is restarted with backoff, a stop sends
 * SIGTERM and, after a grace period, SIGKILL. Each agent's output goes to its
 * own log file (pino JSON lines) so that one incident's trace id can be
 * followed across all of them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_BACKOFF, nextAttempt, restartDelay, type BackoffPolicy } from './backoff.ts';
import { SUPERVISOR_PID_ENV } from './stop-signal.ts';

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export type SupervisorEvent =
  | { kind: 'started'; name: string; pid: number; restarts: number }
  | { kind: 'exited'; name: string; code: number | null; signal: string | null; restartInMs: number | null }
  | { kind: 'stopped'; name: string };

export interface SupervisorOptions {
  readonly logDir: string;
  readonly backoff?: BackoffPolicy;
  /** Time a process gets between SIGTERM and SIGKILL on stop. */
  readonly stopGraceMs?: number;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

interface Supervised {
  readonly spec: ProcessSpec;
  child: ChildProcess | null;
  startedAt: number;
  attempt: number;
  restarts: number;
  timer: NodeJS.Timeout | null;
  log: WriteStream;
  exited: Promise<void>;
}

export class Supervisor {
  private readonly procs = new Map<string, Supervised>();
  private readonly backoff: BackoffPolicy;
  private stopping = false;
  private stopped: Promise<void> | null = null;

  constructor(private readonly opts: SupervisorOptions) {
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    mkdirSync(opts.logDir, { recursive: true, mode: 0o700 });
  }

  logFile(name: string): string {
    return join(this.opts.logDir, `${name}.log`);
  }

  start(spec: ProcessSpec): void {
    if (this.procs.has(spec.name)) throw new Error(`process ${spec.name} is already supervised`);
    const log = createWriteStream(this.logFile(spec.name), { flags: 'a', mode: 0o600 });
    const entry: Supervised = {
      spec,
      child: null,
      startedAt: 0,
      attempt: 0,
      restarts: 0,
      timer: null,
      log,
      exited: Promise.resolve(),
    };
    this.procs.set(spec.name, entry);
    this.launch(entry);
  }

  pid(name: string): number | undefined {
    return this.procs.get(name)?.child?.pid;
  }

  restarts(name: string): number {
    return this.procs.get(name)?.restarts ?? 0;
  }

  /** Stops every process: SIGTERM, then SIGKILL after the grace period. */
  stop(): Promise<void> {
    this.stopped ??= this.stopAll();
    return this.stopped;
  }

  private async stopAll(): Promise<void> {
    this.stopping = true;
    const grace = this.opts.stopGraceMs ?? 10_000;
    await Promise.all(
      [...this.procs.values()].map(async (p) => {
        if (p.timer) clearTimeout(p.timer);
        const child = p.child;
        if (child && child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), grace);
          await p.exited;
          clearTimeout(killer);
        }
        await new Promise<void>((resolve) => p.log.end(resolve));
        this.opts.onEvent?.({ kind: 'stopped', name: p.spec.name });
      }),
    );
  }

  private launch(p: Supervised): void {
    const child = spawn(p.spec.command, [...p.spec.args], {
      cwd: p.spec.cwd,
      // The child stops by itself if this process disappears without stopping it (see stop-signal.ts).
      env: { ...process.env, ...p.spec.env, [SUPERVISOR_PID_ENV]: String(process.pid) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.child = child;
    p.startedAt = Date.now();
    child.stdout?.pipe(p.log, { end: false });
    child.stderr?.pipe(p.log, { end: false });
    p.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.onExit(p, code, signal);
        resolve();
      });
      child.once('error', (err) => {
        p.log.write(`${JSON.stringify({ level: 50, msg: 'cannot start process', err: err.message })}\n`);
      });
    });
    if (child.pid !== undefined) {
      this.opts.onEvent?.({ kind: 'started', name: p.spec.name, pid: child.pid, restarts: p.restarts });
    }
  }

  private onExit(p: Supervised, code: number | null, signal: NodeJS.Signals | null): void {
    p.child = null;
    if (this.stopping) {
      this.opts.onEvent?.({ kind: 'exited', name: p.spec.name, code, signal, restartInMs: null });
      return;
    }
    p.attempt = nextAttempt(this.backoff, p.attempt, Date.now() - p.startedAt);
    const delay = restartDelay(this.backoff, p.attempt);
    this.opts.onEvent?.({ kind: 'exited', name: p.spec.name, code, signal, restartInMs: delay });
    p.timer = setTimeout(() => {
      p.timer = null;
      if (this.stopping) return;
      p.restarts += 1;
      this.launch(p);
    }, delay);
  }
}
