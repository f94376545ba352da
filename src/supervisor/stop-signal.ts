/**
 * How a long-running Falconer process (an agent, `falconer mcp`) waits to be
 * stopped: SIGTERM or SIGINT, or — when a supervisor started it — that
 * supervisor being gone. Without the last, a `falconer up` that was killed
 * (kill -9, an OOM kill, a crashed test) left its agents running, holding their
 * ports and CPU, with no one to stop them. The stop itself gets a deadline: a
 * stop that hangs (a peer that never closes its connection) ends in exit(1)
 * rather than a process that never exits.
 */

/** Set by the supervisor on its children: the pid whose disappearance means "stop". */
export const SUPERVISOR_PID_ENV = 'FALCONER_SUPERVISOR_PID';

export interface StopSignalOptions {
  /** Why the process is stopping, for its log ('SIGTERM', 'SIGINT', 'supervisor gone'). */
  readonly onStopping?: (reason: string) => void;
  /** Longest a stop may take before the process exits with code 1 (default 20 s). */
  readonly deadlineMs?: number;
  /** How often the supervisor is looked for (default 1 s). */
  readonly parentCheckMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Waits for a stop signal, then runs `stop`; resolves or rejects as `stop` does. */
export function runUntilStopped(stop: () => Promise<void>, opts: StopSignalOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  const supervisor = Number(env[SUPERVISOR_PID_ENV]);
  return new Promise<void>((resolve, reject) => {
    let watch: NodeJS.Timeout | undefined;
    const begin = (reason: string): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      clearInterval(watch);
      try {
        opts.onStopping?.(reason);
      } catch {
        // Logging to a supervisor that is gone can fail (a closed pipe): stopping matters more.
      }
      const deadline = setTimeout(() => process.exit(1), opts.deadlineMs ?? 20_000);
      deadline.unref();
      stop().then(resolve, reject);
    };
    const onSignal = (signal: NodeJS.Signals): void => begin(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // The supervisor is the parent: once it is gone the process is re-parented (to init or a
    // subreaper), which a changed ppid shows even if the old pid is reused meanwhile.
    if (Number.isInteger(supervisor) && supervisor > 1 && process.ppid === supervisor) {
      watch = setInterval(() => {
        if (process.ppid !== supervisor) begin('supervisor gone');
      }, opts.parentCheckMs ?? 1000);
      watch.unref();
    }
  });
}
