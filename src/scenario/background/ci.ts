/**
 * GitLab CI on the Kubernetes executor: every job is a fresh pod in `ci`
 * (build container + helper, plus a privileged docker:dind service for image
 * builds) created by the runner's service account. Jobs install packages,
 * compile and run fresh binaries, grep for committed keys, download kubectl and
 * deploy. Pipelines come in bursts, mostly in office hours, plus nightlies.
 */
import { podSuffix } from '../cluster.ts';
import { DL_K8S, github, npmRegistry, pypi } from '../destinations.ts';
import { chmodded, connected, execve, MODE_0755, opened } from '../events.ts';
import type { SyscallFacts } from '../facts.ts';
import { shimOf, SYSTEMD } from '../facts.ts';
import type { Container, Pod, Proc, Workload } from '../model.ts';
import { BASH, BUSYBOX_SH, proc, ROOT } from '../model.ts';
import type { BackgroundActivity, EpisodeContext } from './activity.ts';
import { CI } from './activity.ts';
import { auditRequest } from './platform.ts';
import { apiServerPeer, MINUTE, MS, SECOND } from './helpers.ts';

type Language = 'python' | 'node' | 'go' | 'java' | 'terraform';

interface Project {
  readonly path: string;
  readonly id: number;
  readonly language: Language;
  /** Namespace its review apps / deployments go to. */
  readonly namespace: string;
}

const PROJECTS: readonly Project[] = [
  { path: 'shop/catalog-api', id: 12, language: 'python', namespace: 'shop' },
  { path: 'shop/checkout', id: 14, language: 'node', namespace: 'shop' },
  { path: 'shop/storefront', id: 9, language: 'node', namespace: 'shop' },
  { path: 'payments/payments-api', id: 21, language: 'java', namespace: 'payments' },
  { path: 'payments/fraud-scorer', id: 23, language: 'python', namespace: 'payments' },
  { path: 'platform/edge-proxy', id: 31, language: 'go', namespace: 'platform' },
  { path: 'platform/infra', id: 33, language: 'terraform', namespace: 'platform' },
];

const IMAGES: Record<Language, { repository: string; tag: string }> = {
  python: { repository: 'docker.io/library/python', tag: '3.12-slim' },
  node: { repository: 'docker.io/library/node', tag: '20-bookworm' },
  go: { repository: 'docker.io/library/golang', tag: '1.22' },
  java: { repository: 'docker.io/library/maven', tag: '3.9-eclipse-temurin-21' },
  terraform: { repository: 'docker.io/hashicorp/terraform', tag: '1.7' },
};
const HELPER = {
  repository: 'registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper',
  tag: 'x86_64-v16.9.1',
};
const DIND = { repository: 'docker.io/library/docker', tag: '24.0.7-dind' };
const DOCKER_CLI = { repository: 'docker.io/library/docker', tag: '24.0.7' };
const CI_TOOLS = { repository: 'registry.gitlab.acme-shop.example/platform/ci-tools', tag: '2024.03.1' };

/** The script GitLab's Kubernetes executor starts the build container with: find a shell. */
const DETECT_SHELL =
  '-c if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash; elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash; elif [ -x /bin/bash ]; then exec /bin/bash; elif [ -x /usr/local/bin/sh ]; then exec /usr/local/bin/sh; elif [ -x /usr/bin/sh ]; then exec /usr/bin/sh; elif [ -x /bin/sh ]; then exec /bin/sh; else echo shell not found; exit 1; fi';

interface JobPod {
  readonly pod: Pod;
  readonly build: Container;
  readonly helper: Container;
  readonly dind?: Container;
}

function jobPod(
  ctx: EpisodeContext,
  runner: Workload,
  project: Project,
  image: { repository: string; tag: string },
  withDind: boolean,
  startOffset: number,
): JobPod {
  const { rng, cluster } = ctx;
  const node = rng.pick(cluster.nodes);
  const token = rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 8);
  const containers: Container[] = [];
  const pod: Pod = {
    name: `runner-${token}-project-${project.id}-concurrent-${rng.int(4)}-${podSuffix(rng)}`,
    namespace: 'ci',
    node,
    ip: cluster.allocatePodIp(rng, node),
    workload: { ...runner, kind: 'Job', role: 'ci-job', pods: [] },
    sandboxId: rng.hex(64),
    containers,
  };
  const startNs = ctx.startMs * 1e6 + ctx.now + startOffset;
  const cwd = `/builds/${project.path}/`;
  const build: Container = {
    id: rng.hex(12),
    name: 'build',
    image,
    privileged: withDind,
    startNs,
    user: ROOT,
    // The detect-shell script execs bash, or busybox sh in Alpine-based images.
    init:
      image === DOCKER_CLI
        ? proc('/bin/busybox', '', cwd, { exe: '/bin/sh', name: 'sh', sessionLeader: true })
        : proc('/usr/bin/bash', '', cwd, { exe: '/usr/bin/bash', sessionLeader: true }),
    shell: image === DOCKER_CLI ? BUSYBOX_SH : BASH,
    pod,
  };
  const helper: Container = {
    id: rng.hex(12),
    name: 'helper',
    image: HELPER,
    privileged: false,
    startNs,
    user: ROOT,
    init: proc('/usr/bin/dumb-init', '/entrypoint sh -c gitlab-runner-helper', '/', {
      exe: '/usr/bin/dumb-init',
      sessionLeader: true,
    }),
    pod,
  };
  containers.push(build, helper);
  if (!withDind) return { pod, build, helper };
  const dind: Container = {
    id: rng.hex(12),
    name: 'svc-0',
    image: DIND,
    privileged: true,
    startNs,
    user: ROOT,
    init: proc('/usr/local/bin/dockerd-entrypoint.sh', '', '/', {
      exe: '/usr/local/bin/dockerd-entrypoint.sh',
      sessionLeader: true,
    }),
    pod,
  };
  containers.push(dind);
  return { pod, build, helper, dind };
}

/** Container starts, in the order the kubelet starts them: root everywhere, dind privileged and mounting. */
function startJob(ctx: EpisodeContext, job: JobPod, t: number): void {
  const { rng, cluster } = ctx;
  if (job.dind) {
    ctx.emit(
      t,
      'auditPrivilegedPod',
      auditRequest(cluster, {
        'ka.user.name': 'system:serviceaccount:ci:gitlab-runner',
        'ka.resp.name': job.pod.name,
        'ka.target.namespace': 'ci',
        'ka.req.pod.containers.image': job.pod.containers.map(
          (c) => `${c.image.repository.replace('docker.io/library/', '')}:${c.image.tag}`,
        ),
      }),
    );
  }
  let dt = t + rng.uniform(1.5, 6) * SECOND;
  for (const c of job.pod.containers) {
    const first =
      c === job.build
        ? proc('/bin/sh', DETECT_SHELL, c.init.cwd, { exe: 'sh', sessionLeader: true })
        : c.init;
    ctx.kernel(dt, { op: 'exec', containerStart: true, facts: execve(c, [first, shimOf(c), SYSTEMD]) });
    dt += rng.uniform(5, 60) * MS;
  }
  if (job.dind) {
    const d = job.dind;
    const dindScript = proc(
      '/usr/local/bin/dind',
      'dockerd --host=unix:///var/run/docker.sock --host=tcp://0.0.0.0:2376 --tlsverify',
      '/',
      { exe: '/usr/local/bin/dind' },
    );
    const chain = [dindScript, d.init, shimOf(d), SYSTEMD];
    dt += rng.uniform(20, 200) * MS;
    ctx.kernel(dt, {
      op: 'exec',
      facts: execve(d, [
        proc('/bin/mount', '-t securityfs none /sys/kernel/security', '/', { exe: 'mount' }),
        ...chain,
      ]),
    });
    ctx.kernel(dt + 3 * MS, {
      op: 'exec',
      facts: execve(d, [proc('/bin/mount', '--make-rshared /', '/', { exe: 'mount' }), ...chain]),
    });
  }
}

/** A step of the job script: a child of the build container's bash. */
function step(
  job: JobPod,
  p: Proc,
  o: { upperLayer?: boolean } = {},
): { facts: SyscallFacts; upperLayer: boolean } {
  const c = job.build;
  return {
    facts: execve(c, [p, c.init, shimOf(c), SYSTEMD], { upperLayer: o.upperLayer ?? false }),
    upperLayer: o.upperLayer ?? false,
  };
}

function runStep(ctx: EpisodeContext, dt: number, job: JobPod, p: Proc, upperLayer = false): void {
  const s = step(job, p, { upperLayer });
  ctx.kernel(dt, { op: 'exec', facts: s.facts, upperLayer: s.upperLayer });
}

function testJob(ctx: EpisodeContext, job: JobPod, project: Project, t: number, duration: number): void {
  const { rng } = ctx;
  const cwd = job.build.init.cwd;
  const c = job.build;
  const chainOf = (p: Proc): Proc[] => [p, c.init, shimOf(c), SYSTEMD];
  let dt = t + rng.uniform(8, 20) * SECOND;
  switch (project.language) {
    case 'python': {
      runStep(
        ctx,
        dt,
        job,
        proc(
          '/usr/local/bin/pip',
          'install --no-cache-dir -r requirements.txt -r requirements-dev.txt',
          cwd,
          { exe: 'pip', name: 'pip' },
        ),
      );
      dt += rng.uniform(10, 40) * SECOND;
      // pytest is a Python script: it shows up as python3 when it reaches the test database or an API.
      const pytest = proc('/usr/local/bin/python3.12', '-m pytest -q --junitxml=report.xml', cwd, {
        exe: 'python3',
      });
      for (let i = rng.between(0, 2); i > 0; i--) {
        ctx.kernel(dt + rng.uniform(1, 20) * SECOND, {
          op: 'connect',
          facts: connected(rng, c, chainOf(pytest), pypi(rng)),
        });
      }
      break;
    }
    case 'node': {
      runStep(
        ctx,
        dt,
        job,
        proc('/usr/local/bin/npm', 'ci --no-audit --no-fund', cwd, { exe: 'npm', name: 'npm' }),
      );
      dt += rng.uniform(15, 50) * SECOND;
      // esbuild's platform binary was just unpacked into node_modules: a new executable in the container.
      const esbuildPath = `${cwd}node_modules/@esbuild/linux-x64/bin/esbuild`;
      const node = proc('/usr/local/bin/node', `${cwd}node_modules/esbuild/install.js`, cwd, { exe: 'node' });
      ctx.kernel(dt, {
        op: 'open',
        access: 'write',
        createsExecutable: true,
        facts: opened(c, chainOf(node), esbuildPath, {
          extra: { 'evt.arg.name': esbuildPath, 'evt.arg.filename': null, 'evt.arg.mode': '0755' },
        }),
      });
      ctx.kernel(dt + 30 * MS, { op: 'connect', facts: connected(rng, c, chainOf(node), npmRegistry(rng)) });
      dt += rng.uniform(1, 5) * SECOND;
      runStep(
        ctx,
        dt,
        job,
        proc(esbuildPath, 'src/server.ts --bundle --platform=node --outfile=dist/server.js', cwd, {
          exe: esbuildPath,
        }),
        true,
      );
      break;
    }
    case 'go': {
      const build = `/tmp/go-build${rng.between(100000000, 999999999)}`;
      const link = proc(
        '/usr/local/go/pkg/tool/linux_amd64/link',
        `-o ${build}/b001/exe/a.out -importcfg ${build}/b001/importcfg.link -buildmode=exe`,
        cwd,
        { exe: '/usr/local/go/pkg/tool/linux_amd64/link' },
      );
      const out = `${cwd}bin/edge-proxy`;
      ctx.kernel(dt, {
        op: 'open',
        access: 'write',
        createsExecutable: true,
        facts: opened(c, chainOf(link), out, {
          extra: { 'evt.arg.name': out, 'evt.arg.filename': null, 'evt.arg.mode': '0777' },
        }),
      });
      dt += rng.uniform(5, 30) * SECOND;
      for (const pkg of rng.shuffle(['proxy', 'config', 'ratelimit', 'tls']).slice(0, rng.between(1, 3))) {
        const exe = `${build}/b0${rng.between(10, 99)}/${pkg}.test`;
        runStep(
          ctx,
          dt,
          job,
          proc(exe, '-test.paniconexit0 -test.timeout=10m0s -test.count=1', `${cwd}internal/${pkg}/`, {
            exe,
          }),
          true,
        );
        dt += rng.uniform(1, 15) * SECOND;
      }
      break;
    }
    case 'java':
      // Maven downloads and runs java; nothing there trips a rule beyond the container start.
      break;
    case 'terraform': {
      const provider = `${cwd}.terraform/providers/registry.terraform.io/hashicorp/aws/5.40.0/linux_amd64/terraform-provider-aws_v5.40.0_x5`;
      dt += rng.uniform(5, 20) * SECOND;
      runStep(ctx, dt, job, proc(provider, '', cwd, { exe: provider }), true);
      ctx.kernel(dt + rng.uniform(1, 3) * SECOND, {
        op: 'exec',
        facts: step(
          job,
          proc(
            '/usr/bin/git',
            'ls-remote https://github.com/terraform-aws-modules/terraform-aws-eks.git',
            cwd,
            { exe: 'git' },
          ),
        ).facts,
      });
      ctx.kernel(dt + rng.uniform(3, 5) * SECOND, {
        op: 'connect',
        facts: connected(rng, c, chainOf(proc('/usr/bin/git', '', cwd, { exe: 'git' })), github(rng)),
      });
      break;
    }
  }
  if (rng.chance(0.5)) {
    // The secret-leak check many pipelines have.
    runStep(
      ctx,
      t + duration * rng.uniform(0.6, 0.9),
      job,
      proc('/usr/bin/grep', '-rIl --exclude-dir=.git BEGIN RSA PRIVATE KEY .', cwd, { exe: 'grep' }),
    );
  }
}

function imageJob(ctx: EpisodeContext, job: JobPod, project: Project, t: number): void {
  const { rng } = ctx;
  const cwd = job.build.init.cwd;
  const image = `registry.gitlab.acme-shop.example/${project.path}`;
  let dt = t + rng.uniform(10, 25) * SECOND;
  runStep(
    ctx,
    dt,
    job,
    proc(
      '/usr/local/bin/docker',
      'login -u gitlab-ci-token --password-stdin registry.gitlab.acme-shop.example',
      cwd,
      { exe: 'docker' },
    ),
  );
  dt += rng.uniform(1, 3) * SECOND;
  runStep(
    ctx,
    dt,
    job,
    proc('/usr/local/bin/docker', `build --pull -t ${image}:${rng.hex(8)} .`, cwd, { exe: 'docker' }),
  );
  dt += rng.uniform(40, 240) * SECOND;
  runStep(ctx, dt, job, proc('/usr/local/bin/docker', `push ${image} --all-tags`, cwd, { exe: 'docker' }));
}

function deployJob(ctx: EpisodeContext, job: JobPod, project: Project, t: number): void {
  const { rng, cluster } = ctx;
  const c = job.build;
  const cwd = c.init.cwd;
  const chainOf = (p: Proc): Proc[] => [p, c.init, shimOf(c), SYSTEMD];
  let dt = t + rng.uniform(5, 15) * SECOND;
  runStep(ctx, dt, job, proc('/usr/bin/base64', '-d', cwd, { exe: 'base64' }));
  dt += rng.uniform(0.2, 1) * SECOND;
  // Pinned kubectl download, either to /usr/local/bin and chmod, or to /tmp and install into /usr/bin.
  const viaInstall = rng.chance(0.4);
  const target = viaInstall ? '/tmp/kubectl' : '/usr/local/bin/kubectl';
  const curl = proc(
    '/usr/bin/curl',
    `-fsSL -o ${target} https://dl.k8s.io/release/v1.29.2/bin/linux/amd64/kubectl`,
    cwd,
    { exe: 'curl' },
  );
  runStep(ctx, dt, job, curl);
  ctx.kernel(dt + 80 * MS, { op: 'connect', facts: connected(rng, c, chainOf(curl), DL_K8S) });
  dt += rng.uniform(2, 6) * SECOND;
  let kubectlPath = target;
  if (viaInstall) {
    const install = proc('/usr/bin/install', '-m 0755 /tmp/kubectl /usr/bin/kubectl', cwd, {
      exe: 'install',
    });
    runStep(ctx, dt, job, install);
    ctx.kernel(dt + 2 * MS, {
      op: 'open',
      access: 'write',
      facts: opened(c, chainOf(install), '/usr/bin/kubectl'),
    });
    kubectlPath = '/usr/bin/kubectl';
  } else {
    const chmod = proc('/bin/chmod', `+x ${target}`, cwd, { exe: 'chmod' });
    runStep(ctx, dt, job, chmod);
    ctx.kernel(dt + 1 * MS, { op: 'chmod', facts: chmodded(c, chainOf(chmod), target, MODE_0755) });
  }
  const review = rng.chance(0.35);
  const ns = review
    ? `review-${rng.pick(['feat', 'fix', 'chore'])}-${rng.chars('abcdefghijklmnopqrstuvwxyz', 6)}`
    : project.namespace;
  const app = project.path.split('/')[1] as string;
  dt += rng.uniform(1, 3) * SECOND;
  const kubectl = proc(
    kubectlPath,
    `apply -n ${ns} -k deploy/overlays/${review ? 'review' : 'production'}`,
    cwd,
    { exe: 'kubectl' },
  );
  runStep(ctx, dt, job, kubectl, true);
  for (let i = rng.between(1, 2); i > 0; i--) {
    ctx.kernel(dt + rng.uniform(50, 400) * MS, {
      op: 'connect',
      facts: connected(rng, c, chainOf(kubectl), apiServerPeer(cluster)),
    });
  }
  const deployer = 'system:serviceaccount:ci:gitlab-deployer';
  const reason = (r: string) =>
    `RBAC: allowed by ClusterRoleBinding "gitlab-deployer" of ClusterRole "${r}" to ServiceAccount "gitlab-deployer/ci"`;
  const base = { 'ka.user.name': deployer, 'ka.auth.reason': reason('gitlab-deployer') };
  let at = dt + rng.uniform(0.3, 1) * SECOND;
  if (review) {
    ctx.emit(
      at,
      'auditNamespaceCreated',
      auditRequest(cluster, { ...base, 'ka.target.name': ns, 'ka.response.code': '201' }),
    );
    at += rng.uniform(50, 300) * MS;
    ctx.emit(
      at,
      'auditServiceCreated',
      auditRequest(cluster, {
        ...base,
        'ka.target.name': app,
        'ka.target.namespace': ns,
        'ka.response.code': '201',
      }),
    );
    at += rng.uniform(50, 300) * MS;
    ctx.emit(
      at,
      'auditDeploymentCreated',
      auditRequest(cluster, {
        ...base,
        'ka.target.name': app,
        'ka.target.namespace': ns,
        'ka.response.code': '201',
      }),
    );
  }
  ctx.emit(
    at + rng.uniform(50, 300) * MS,
    'auditConfigMapCreated',
    auditRequest(cluster, {
      ...base,
      'ka.target.name': `${app}-config-${rng.chars('bcdfghkmt2456789', 10)}`,
      'ka.target.namespace': ns,
      'ka.response.code': '201',
    }),
  );
}

export const ciPipelines: BackgroundActivity = {
  name: 'ci-pipelines',
  intensity: { perHour: 24 },
  rhythm: CI,
  available: (cluster) => cluster.byRole('gitlab-runner').length > 0,
  episode(ctx) {
    const { rng, cluster } = ctx;
    const runner = cluster.byRole('gitlab-runner')[0] as Workload;
    const project = rng.pick(PROJECTS);
    const main = rng.chance(0.4);
    let t = 0;
    // test stage (one or two parallel jobs)
    const testDuration = Math.min(20 * MINUTE, rng.logNormal(2.5 * MINUTE, 0.5));
    for (let i = rng.chance(0.3) ? 2 : 1; i > 0; i--) {
      const job = jobPod(ctx, runner, project, IMAGES[project.language], false, t);
      startJob(ctx, job, t + rng.uniform(0, 3) * SECOND);
      testJob(ctx, job, project, t, testDuration);
    }
    t += testDuration + rng.uniform(5, 20) * SECOND;
    if (project.language === 'terraform') return;
    // build stage: docker build with a dind service
    const build = jobPod(ctx, runner, project, DOCKER_CLI, true, t);
    startJob(ctx, build, t);
    imageJob(ctx, build, project, t);
    t += rng.logNormal(4 * MINUTE, 0.4);
    if (!main && rng.chance(0.5)) return;
    const deploy = jobPod(ctx, runner, project, CI_TOOLS, false, t);
    startJob(ctx, deploy, t);
    deployJob(ctx, deploy, project, t);
  },
};
