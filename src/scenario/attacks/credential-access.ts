/**
 * Credential access from a compromised workload: the shadow file and keys on
 * disk (T1003.008), the pod's service-account token used against the API
 * (T1528), and the node's cloud credentials from the metadata service (T1552.005).
 */
import { auditRequest } from '../background/platform.ts';
import { apiServerPeer, MS, SECOND } from '../background/helpers.ts';
import { IMDS } from '../destinations.ts';
import { connected, execve, opened } from '../events.ts';
import type { Proc } from '../model.ts';
import { bin, foothold, shC, type Playbook } from './playbook.ts';

const KIND = 'credential_access' as const;

export const shadowAndKeys: Playbook = {
  kind: KIND,
  technique: 'T1003.008',
  techniqueName: 'OS Credential Dumping: /etc/passwd and /etc/shadow',
  variant: 'shadow-and-keys',
  roles: ['web-python'],
  run(ctx, c) {
    const { rng } = ctx;
    const f = foothold(c);
    const cwd = c.init.cwd;
    let dt = 0;
    const steps: [string, string][] = [
      ['/usr/bin/cat', '/etc/shadow'],
      ['/usr/bin/grep', '-rIl BEGIN OPENSSH PRIVATE KEY / --exclude-dir=proc --exclude-dir=sys'],
      ['/usr/bin/find', '/ -type f -path */.aws/credentials'],
      ['/usr/bin/grep', '-ri aws_secret_access_key /app /root /home'],
    ];
    for (const [path, args] of steps.slice(0, rng.between(2, 4))) {
      const sh = shC(`${path.slice(path.lastIndexOf('/') + 1)} ${args} 2>/dev/null`, cwd);
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
      const p = bin(path, args, cwd);
      const chain: Proc[] = [p, sh, ...f.chain];
      ctx.kernel(dt + 2 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
      if (args === '/etc/shadow')
        ctx.kernel(dt + 3 * MS, { op: 'open', facts: opened(c, chain, '/etc/shadow', { user: f.user }) });
      dt += rng.uniform(5, 60) * SECOND;
    }
  },
};

export const serviceAccountToken: Playbook = {
  kind: KIND,
  technique: 'T1528',
  techniqueName: 'Steal Application Access Token',
  variant: 'sa-token',
  roles: ['web-node', 'web-python'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const f = foothold(c);
    const cwd = c.init.cwd;
    const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';
    const sh = shC(`cat ${tokenPath}; cat /proc/1/environ`, cwd);
    ctx.kernel(0, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
    const cat1 = bin('/usr/bin/cat', tokenPath, cwd);
    ctx.kernel(2 * MS, { op: 'exec', facts: execve(c, [cat1, sh, ...f.chain], { user: f.user }) });
    ctx.kernel(3 * MS, { op: 'open', facts: opened(c, [cat1, sh, ...f.chain], tokenPath, { user: f.user }) });
    const cat2 = bin('/usr/bin/cat', '/proc/1/environ', cwd);
    ctx.kernel(5 * MS, { op: 'exec', facts: execve(c, [cat2, sh, ...f.chain], { user: f.user }) });
    ctx.kernel(6 * MS, {
      op: 'open',
      facts: opened(c, [cat2, sh, ...f.chain], '/proc/1/environ', { user: f.user }),
    });
    const sa = `system:serviceaccount:${c.pod.namespace}:${c.pod.workload.serviceAccount}`;
    const secrets = rng
      .shuffle([`${c.pod.workload.name}-db`, `${c.pod.workload.name}-env`, 'registry-credentials'])
      .slice(0, rng.between(1, 2));
    let dt = rng.uniform(20, 90) * SECOND;
    for (const secret of secrets) {
      const url = `https://kubernetes.default.svc/api/v1/namespaces/${c.pod.namespace}/secrets/${secret}`;
      const sh2 = shC(`curl -sk -H "Authorization: Bearer $(cat ${tokenPath})" ${url}`, cwd);
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh2, ...f.chain], { user: f.user }) });
      const curl = bin(
        '/usr/bin/curl',
        `-sk -H Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6I${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 24)} ${url}`,
        cwd,
      );
      const chain = [curl, sh2, ...f.chain];
      ctx.kernel(dt + 4 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
      ctx.kernel(dt + 9 * MS, {
        op: 'connect',
        facts: connected(rng, c, chain, apiServerPeer(cluster), { user: f.user }),
      });
      ctx.emit(
        dt + 30 * MS,
        'auditSecretGet',
        auditRequest(cluster, {
          'ka.user.name': sa,
          'ka.target.name': secret,
          'ka.target.namespace': c.pod.namespace,
          'ka.auth.reason': `RBAC: allowed by RoleBinding "${c.pod.workload.name}" of Role "${c.pod.workload.name}" to ServiceAccount "${c.pod.workload.serviceAccount}/${c.pod.namespace}"`,
        }),
      );
      dt += rng.uniform(10, 60) * SECOND;
    }
  },
};

export const metadataCredentials: Playbook = {
  kind: KIND,
  technique: 'T1552.005',
  techniqueName: 'Unsecured Credentials: Cloud Instance Metadata API',
  variant: 'imds',
  roles: ['web-node', 'web-python', 'web-php'],
  run(ctx, c) {
    const { rng, cluster } = ctx;
    const f = foothold(c);
    const cwd = c.init.cwd;
    const role = `eks-${cluster.name}-node-role-${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 12)}`;
    const requests = [
      '-s -X PUT http://169.254.169.254/latest/api/token -H X-aws-ec2-metadata-token-ttl-seconds: 21600',
      '-s -H X-aws-ec2-metadata-token: AQAEA... http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      `-s -H X-aws-ec2-metadata-token: AQAEA... http://169.254.169.254/latest/meta-data/iam/security-credentials/${role}`,
    ];
    let dt = 0;
    for (const args of requests) {
      const sh = shC(`curl ${args}`, cwd);
      ctx.kernel(dt, { op: 'exec', facts: execve(c, [sh, ...f.chain], { user: f.user }) });
      const curl = bin('/usr/bin/curl', args, cwd);
      const chain = [curl, sh, ...f.chain];
      ctx.kernel(dt + 3 * MS, { op: 'exec', facts: execve(c, chain, { user: f.user }) });
      ctx.kernel(dt + 6 * MS, { op: 'connect', facts: connected(rng, c, chain, IMDS, { user: f.user }) });
      dt += rng.uniform(3, 40) * SECOND;
    }
  },
};

export const CREDENTIAL_ACCESS_PLAYBOOKS: readonly Playbook[] = [
  shadowAndKeys,
  serviceAccountToken,
  metadataCredentials,
];
