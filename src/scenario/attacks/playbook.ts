/**
 * An attack playbook: one realistic way to do one attack kind, from a workload
 * of the right role. It describes what the attacker's processes do (kernel and
 * audit events); detect.ts decides which rules fire, exactly as for the
 * background. Timing is seconds to minutes, like a person at a keyboard or a script.
 */
import type { EpisodeContext } from '../background/activity.ts';
import type { Container, Proc, Role, UserIdentity } from '../model.ts';
import { proc } from '../model.ts';
import { shimOf, SYSTEMD } from '../facts.ts';
import type { AttackKind } from '../types.ts';

export interface Playbook {
  readonly kind: AttackKind;
  readonly variant: string;
  readonly technique: string;
  readonly techniqueName: string;
  /** Roles the attack can start from; the first present one in the cluster is eligible. */
  readonly roles: readonly Role[];
  run(ctx: EpisodeContext, origin: Container): void;
}

/** The compromised application process: what the attacker's first command is a child of, and as which user. */
export interface Foothold {
  readonly chain: readonly Proc[];
  readonly user: UserIdentity;
}

const WORKER_USERS: Partial<Record<string, UserIdentity>> = {
  'php-fpm': { name: 'www-data', uid: 33, gid: 33, group: 'www-data' },
};

/**
 * Web servers handle requests in worker processes (a fork of the master, same
 * executable); others handle them in the main process. Notebooks run code in a kernel.
 */
export function foothold(c: Container): Foothold {
  const init = c.init;
  const host = [shimOf(c), SYSTEMD];
  if (init.name === 'php-fpm' || init.name === 'gunicorn') {
    const worker = { ...init, sessionLeader: false, args: init.name === 'php-fpm' ? '' : init.args };
    return { chain: [worker, init, ...host], user: WORKER_USERS[init.name] ?? c.user };
  }
  if (init.name === 'jupyter-lab') {
    const kernel = proc(
      '/opt/conda/bin/python3.11',
      `-m ipykernel_launcher -f /home/jovyan/.local/share/jupyter/runtime/kernel-${c.id}.json`,
      init.cwd,
      {
        exe: '/opt/conda/bin/python',
        name: 'python',
      },
    );
    return { chain: [kernel, init, ...host], user: c.user };
  }
  return { chain: [init, ...host], user: c.user };
}

/** `sh -c <script>`, as an injected command runs (Debian's sh is dash). */
export function shC(script: string, cwd: string): Proc {
  return proc('/usr/bin/dash', `-c ${script}`, cwd, { exe: 'sh' });
}

export function bin(path: string, args: string, cwd: string): Proc {
  return proc(path, args, cwd, { exe: path.slice(path.lastIndexOf('/') + 1) });
}

/** A staging directory attackers like: hidden, world-writable, under /tmp or /dev/shm. */
export function stagingDir(pick: <T>(items: readonly T[]) => T): string {
  return pick(['/tmp/.X11-unix/.x', '/tmp/.ICE-unix/.s', '/var/tmp/.cache', '/dev/shm/.k']);
}
