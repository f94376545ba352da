/**
 * Escape to the host (T1611): the cgroup v1 release_agent trick from an
 * unprivileged container via a new user namespace (CVE-2022-0492), nsenter into
 * PID 1's namespaces from a privileged hostPID pod, and the host's disk mounted
 * and debugfs'd from a privileged pod.
 */
import { MS, SECOND } from '../background/helpers.ts';
import { chmodded, execve, MODE_0777, opened } from '../events.ts';
import type { SyscallFacts } from '../facts.ts';
import { ALL_CAPS } from '../facts.ts';
import type { Container, Proc } from '../model.ts';
import { proc, ROOT } from '../model.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const TECHNIQUE = { kind: 'container_escape', technique: 'T1611', techniqueName: 'Escape to Host' } as const;

function syscall(
  c: Container,
  chain: readonly Proc[],
  evtType: string,
  extra?: SyscallFacts['extra'],
): SyscallFacts {
  return {
    kind: 'syscall',
    container: c,
    evtType,
    chain,
    user: ROOT,
    tty: 0,
    ...(extra !== undefined && { extra }),
  };
}

export const unshareReleaseAgent: Playbook = {
  ...TECHNIQUE,
  variant: 'unshare-release-agent',
  roles: ['web-python', 'web-node'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const cwd = '/tmp/';
    const sh = shC('unshare -UrmC bash', c.init.cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
    const unshare = bin('/usr/bin/unshare', '-UrmC bash', c.init.cwd);
    const uChain = [unshare, sh, ...f.chain];
    ctx.kernel(2 * MS, { op: 'exec', facts: execve(c, uChain, { user: f.user }) });
    ctx.kernel(3 * MS, {
      op: 'unshare',
      facts: { ...syscall(c, uChain, 'unshare', { 'evt.res': 'SUCCESS' }), user: f.user },
    });
    // Root with every capability inside the new user namespace.
    const bash = proc('/usr/bin/bash', '', cwd, { exe: 'bash' });
    const bChain = [bash, unshare, sh, ...f.chain];
    const caps = { 'thread.cap_effective': ALL_CAPS };
    ctx.kernel(5 * MS, { op: 'exec', facts: execve(c, bChain, { user: ROOT }) });
    let dt = rng.uniform(3, 20) * SECOND;
    ctx.kernel(dt, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/mount', '-t cgroup -o rdma cgroup /tmp/cgrp', cwd), ...bChain], {
        user: ROOT,
      }),
    });
    dt += rng.uniform(1, 8) * SECOND;
    ctx.kernel(dt, {
      op: 'open',
      access: 'write',
      facts: opened(c, bChain, '/tmp/cgrp/release_agent', { user: ROOT, extra: caps }),
    });
    dt += rng.uniform(0.5, 4) * SECOND;
    ctx.kernel(dt, { op: 'open', access: 'write', facts: opened(c, bChain, '/cmd', { user: ROOT }) });
    const chmod = bin('/usr/bin/chmod', 'a+x /cmd', cwd);
    ctx.kernel(dt + 2 * MS, { op: 'exec', facts: execve(c, [chmod, ...bChain], { user: ROOT }) });
    ctx.kernel(dt + 3 * MS, {
      op: 'chmod',
      facts: chmodded(c, [chmod, ...bChain], '/cmd', MODE_0777, { user: ROOT }),
    });
    ctx.kernel(dt + rng.uniform(1, 5) * SECOND, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/dash', '-c echo $$ > /tmp/cgrp/x/cgroup.procs', cwd), ...bChain], {
        user: ROOT,
      }),
    });
  },
};

/** A privileged, hostPID log shipper: its plugin runs a command; the attacker nsenters PID 1. */
export const nsenterHost: Playbook = {
  ...TECHNIQUE,
  variant: 'nsenter-host',
  roles: ['log-shipper'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const sh = shC(
      'nsenter -t 1 -m -u -i -n -p -- bash -c "id; cat /etc/shadow; cat /var/lib/kubelet/kubeconfig"',
      c.init.cwd,
    );
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain]) });
    const nsenter = bin(
      '/usr/bin/nsenter',
      '-t 1 -m -u -i -n -p -- bash -c id; cat /etc/shadow; cat /var/lib/kubelet/kubeconfig',
      c.init.cwd,
    );
    const nChain = [nsenter, sh, ...f.chain];
    ctx.kernel(2 * MS, { op: 'exec', facts: execve(c, nChain) });
    for (let i = 0; i < 3; i++) ctx.kernel((3 + i) * MS, { op: 'setns', facts: syscall(c, nChain, 'setns') });
    const bash = proc('/usr/bin/bash', '-c id; cat /etc/shadow; cat /var/lib/kubelet/kubeconfig', '/', {
      exe: 'bash',
    });
    const bChain = [bash, nsenter, sh, ...f.chain];
    ctx.kernel(8 * MS, { op: 'exec', facts: execve(c, bChain) });
    const cat = bin('/usr/bin/cat', '/etc/shadow', '/');
    ctx.kernel(12 * MS, { op: 'exec', facts: execve(c, [cat, ...bChain]) });
    ctx.kernel(13 * MS, { op: 'open', facts: opened(c, [cat, ...bChain], '/etc/shadow') });
    const cat2 = bin('/usr/bin/cat', '/var/lib/kubelet/kubeconfig', '/');
    ctx.kernel(15 * MS, { op: 'exec', facts: execve(c, [cat2, ...bChain]) });
    if (rng.chance(0.6)) {
      const dt = rng.uniform(20, 120) * SECOND;
      const crictl = bin('/usr/local/bin/crictl', 'ps -a', '/');
      const sh2 = shC('nsenter -t 1 -m -- crictl ps -a', c.init.cwd);
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh2, ...f.chain]) });
      const n2 = bin('/usr/bin/nsenter', '-t 1 -m -- crictl ps -a', c.init.cwd);
      ctx.kernel(dt + 2 * MS, { op: 'exec', facts: execve(c, [n2, sh2, ...f.chain]) });
      ctx.kernel(dt + 3 * MS, { op: 'setns', facts: syscall(c, [n2, sh2, ...f.chain], 'setns') });
      ctx.kernel(dt + 6 * MS, { op: 'exec', facts: execve(c, [crictl, n2, sh2, ...f.chain]) });
    }
  },
};

/** The host's root disk from a privileged pod: debugfs it, mount it, read and plant credentials under /host. */
export const hostDisk: Playbook = {
  ...TECHNIQUE,
  variant: 'host-disk',
  roles: ['log-shipper'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const sh = proc('/usr/bin/dash', '-i', '/', { exe: 'sh' });
    const shChain = [sh, ...f.chain];
    ctx.kernel(0, { op: 'exec', facts: execve(c, shChain) });
    let dt = rng.uniform(5, 20) * SECOND;
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [bin('/usr/sbin/fdisk', '-l', '/'), ...shChain]) });
    dt += rng.uniform(5, 30) * SECOND;
    ctx.kernel(dt, {
      op: 'exec',
      facts: execve(c, [bin('/usr/sbin/debugfs', '-R ls -l /root/.ssh /dev/nvme0n1p1', '/'), ...shChain]),
    });
    dt += rng.uniform(5, 30) * SECOND;
    ctx.kernel(dt, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/mount', '/dev/nvme0n1p1 /mnt', '/'), ...shChain]),
    });
    dt += rng.uniform(5, 30) * SECOND;
    const files = ['/host/etc/shadow', '/host/var/lib/kubelet/kubeconfig', '/host/etc/kubernetes/pki/ca.crt'];
    for (const file of files.slice(0, rng.between(1, 3))) {
      const cat = bin('/usr/bin/cat', file, '/');
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [cat, ...shChain]) });
      ctx.kernel(dt + MS, { op: 'open', facts: opened(c, [cat, ...shChain], file) });
      dt += rng.uniform(2, 20) * SECOND;
    }
    ctx.kernel(dt, {
      op: 'open',
      access: 'write',
      facts: opened(c, shChain, '/host/root/.ssh/authorized_keys'),
    });
  },
};

export const CONTAINER_ESCAPE_PLAYBOOKS: readonly Playbook[] = [unshareReleaseAgent, nsenterHost, hostDisk];
