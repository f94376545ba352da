/**
 * Micro-bench of event normalization (not a test): events/s for JSON.parse alone
 * versus JSON.parse + normalizeAlert over the same NDJSON lines, plus the parts
 * (zod schema alone, fast validator alone, id hash alone) to see where time goes.
 *   node --import tsx bench/normalize.ts [--json] [--seconds S]
 * Results: bench/results/normalize.json (written with --write).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { eventId } from '../src/events/event-id.ts';
import { FalcoAlertSchema } from '../src/events/falco-alert.ts';
import { parseAlertFast } from '../src/events/falco-alert-fast.ts';
import { DEFAULT_EVENT_LIMITS } from '../src/events/limits.ts';
import { createNormalizer } from '../src/events/normalize.ts';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 1.5;

/** Realistic alerts (stable-rule outputs and fields as Falco 0.38+ writes them), varied so nothing is cached. */
function sampleLines(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ns = 1715678504123456789n + BigInt(i) * 7919n;
    const time = new Date(Number(ns / 1000000n))
      .toISOString()
      .replace(/\.\d+Z$/, `.${String(ns % 1000000000n).padStart(9, '0')}Z`);
    const pod = `web-${(i % 97).toString(36)}-7c5ddbdf54-x${i % 13}`;
    const cid = (0x5d1e1f0c3a2b + (i % 251)).toString(16);
    const alert =
      i % 2 === 0
        ? {
            hostname: `worker-${i % 7}`,
            output: `${time.replace('Z', '+0000')}: Notice A shell was spawned in a container with an attached terminal (user=root process=bash command=bash -il container_id=${cid} image=nginx k8s_ns=web k8s_pod_name=${pod})`,
            priority: 'Notice',
            rule: 'Terminal shell in container',
            source: 'syscall',
            tags: ['T1059', 'container', 'mitre_execution', 'shell'],
            time,
            output_fields: {
              'container.id': cid,
              'container.image.repository': 'docker.io/library/nginx',
              'evt.time': Number(ns),
              'k8s.ns.name': 'web',
              'k8s.pod.name': pod,
              'proc.cmdline': 'bash -il',
              'proc.name': 'bash',
              'proc.pid': 4242 + i,
              'user.name': 'root',
            },
          }
        : {
            hostname: `worker-${i % 7}`,
            output: `${time.replace('Z', '+0000')}: Warning Sensitive file opened for reading (file=/etc/shadow command=cat /etc/shadow container_id=${cid})`,
            priority: 'Warning',
            rule: 'Read sensitive file untrusted',
            source: 'syscall',
            tags: ['T1555', 'filesystem', 'mitre_credential_access'],
            time,
            output_fields: {
              'container.id': cid,
              'evt.time': Number(ns),
              'fd.name': '/etc/shadow',
              'proc.cmdline': 'cat /etc/shadow',
              'proc.pid': 977 + i,
              'user.name': 'root',
            },
          };
    lines.push(JSON.stringify(alert));
  }
  return lines;
}

function measure(
  name: string,
  lines: string[],
  fn: (line: string, i: number) => unknown,
): { name: string; eventsPerSecond: number; nsPerEvent: number } {
  let sink = 0;
  // warm up
  for (let i = 0; i < 20_000; i++) if (fn(lines[i % lines.length] as string, i % lines.length)) sink++;
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < lines.length; i++) if (fn(lines[i] as string, i)) sink++;
    n += lines.length;
    elapsed = process.hrtime.bigint() - start;
  }
  if (sink < 0) console.log(sink);
  const s = Number(elapsed) / 1e9;
  return { name, eventsPerSecond: Math.round(n / s), nsPerEvent: Math.round((s * 1e9) / n) };
}

const lines = sampleLines(4096);
const avgBytes = Math.round(lines.reduce((a, l) => a + Buffer.byteLength(l), 0) / lines.length);
const parsed = lines.map((l) => JSON.parse(l) as unknown);
const normalize = createNormalizer();
const fastOk = parsed.map((p) => parseAlertFast(p, DEFAULT_EVENT_LIMITS));

const results = [
  measure('JSON.parse', lines, (l) => JSON.parse(l)),
  measure('JSON.parse + normalizeAlert', lines, (l) => normalize(JSON.parse(l))),
  measure('JSON.parse + normalizeAlert + id', lines, (l) => normalize(JSON.parse(l)).id),
  measure('normalizeAlert (pre-parsed)', lines, (_l, i) => normalize(parsed[i])),
  measure('fast validator (pre-parsed)', lines, (_l, i) => parseAlertFast(parsed[i], DEFAULT_EVENT_LIMITS)),
  measure('zod safeParse (pre-parsed)', lines, (_l, i) => FalcoAlertSchema.safeParse(parsed[i]).success),
  measure('id hash (sha256, pre-validated)', lines, (_l, i) => {
    const a = fastOk[i]!;
    return eventId({ ...a, hostname: a.hostname ?? '', fields: a.output_fields });
  }),
];
const parseRate = results[0]!.eventsPerSecond;
const report = {
  bench: 'normalize',
  node: process.version,
  date: new Date().toISOString(),
  avgEventBytes: avgBytes,
  results: results.map((r) => ({
    ...r,
    relativeToJsonParse: Number((r.eventsPerSecond / parseRate).toFixed(3)),
  })),
};
if (args.includes('--json')) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`avg event ${avgBytes} bytes, node ${process.version}`);
  for (const r of report.results) {
    console.log(
      `${r.name.padEnd(36)} ${String(r.eventsPerSecond).padStart(10)} ev/s ${String(r.nsPerEvent).padStart(6)} ns/ev  ${r.relativeToJsonParse}× JSON.parse`,
    );
  }
}
if (args.includes('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/normalize.json', import.meta.url), JSON.stringify(report, null, 2) + '\n');
}
