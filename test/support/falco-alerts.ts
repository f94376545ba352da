/** Falco alerts for tests: the real ones from ../shared/data and realistic hand-written ones. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SHARED_DATA } from './paths.ts';

export const REAL_ALERTS_DIR = join(SHARED_DATA, 'falco', 'alerts');

/** Every line of every file in ../shared/data/falco/alerts, with where it came from. */
export function realAlertLines(): { file: string; line: number; text: string }[] {
  const out: { file: string; line: number; text: string }[] = [];
  for (const file of readdirSync(REAL_ALERTS_DIR).sort()) {
    const lines = readFileSync(join(REAL_ALERTS_DIR, file), 'utf8').split('\n');
    lines.forEach((text, i) => {
      if (text.trim() !== '') out.push({ file, line: i + 1, text });
    });
  }
  return out;
}

/** A syscall alert as Falco 0.38 writes it for the stable rule "Terminal shell in container". */
export function terminalShellAlert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostname: 'worker-1',
    output:
      '2024-05-14T09:21:44.123456789+0000: Notice A shell was spawned in a container with an attached terminal (evt_type=execve user=root user_uid=0 user_loginuid=-1 process=bash proc_exepath=/usr/bin/bash parent=runc command=bash -il terminal=34816 exe_flags=EXE_WRITABLE container_id=5d1e1f0c3a2b container_name=nginx container_image_repository=docker.io/library/nginx container_image_tag=1.25 k8s_pod_name=web-7c5ddbdf54-x2x9k k8s_ns_name=shop)',
    priority: 'Notice',
    rule: 'Terminal shell in container',
    source: 'syscall',
    tags: ['T1059', 'container', 'maturity_stable', 'mitre_execution', 'shell'],
    time: '2024-05-14T09:21:44.123456789Z',
    output_fields: {
      'container.id': '5d1e1f0c3a2b',
      'container.image.repository': 'docker.io/library/nginx',
      'container.image.tag': '1.25',
      'container.name': 'nginx',
      'evt.arg.flags': 'EXE_WRITABLE',
      // Nanoseconds, as Falco writes them: beyond 2^53, so JSON.parse rounds them, like here.
      'evt.time': JSON.parse('1715678504123456789') as number,
      'evt.type': 'execve',
      'k8s.ns.name': 'shop',
      'k8s.pod.name': 'web-7c5ddbdf54-x2x9k',
      'proc.cmdline': 'bash -il',
      'proc.exepath': '/usr/bin/bash',
      'proc.name': 'bash',
      'proc.pname': 'runc',
      'proc.tty': 34816,
      'user.loginuid': -1,
      'user.name': 'root',
      'user.uid': 0,
    },
    ...overrides,
  };
}

/**
 * A k8s_audit alert for the rule "Attach/Exec Pod" of k8s_audit_rules_legacy.yaml
 * (output: "Attach/Exec to pod (user=%ka.user.name pod=%ka.target.name
 * ns=%ka.target.namespace action=%ka.target.subresource command=%ka.uri.param[command])"),
 * as Falco's k8saudit source writes it: output_fields hold exactly the output's fields.
 */
export function execPodAuditAlert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hostname: 'falco-k8saudit-0',
    output:
      '09:21:44.123456000: Notice Attach/Exec to pod (user=alice@example.com pod=payments-api-6d9f7b7c9d-kq2lm ns=payments action=exec command=sh)',
    priority: 'Notice',
    rule: 'Attach/Exec Pod',
    source: 'k8s_audit',
    tags: ['k8s'],
    time: '2024-05-14T09:21:44.123456000Z',
    output_fields: {
      'evt.time': 1715678504123456000,
      'ka.target.name': 'payments-api-6d9f7b7c9d-kq2lm',
      'ka.target.namespace': 'payments',
      'ka.target.subresource': 'exec',
      'ka.uri.param[command]': 'sh',
      'ka.user.name': 'alice@example.com',
    },
    ...overrides,
  };
}
