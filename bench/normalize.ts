/**
 * Micro-bench of event normalization (not a test): events/s for JSON.parse alone
 * versus JSON.parse + normalizeAlert over the same ~600-byte alerts, the NDJSON
 * byte path the ingest uses, and the parts (fast validator, zod schema, id hash)
 * to see where the time goes. Each case runs in a fresh process (no shared JIT
 * feedback or garbage); cases are interleaved over several rounds and the median
 * is reported, because shared machines are noisy.
 *   node --import tsx bench/normalize.ts [--rounds N] [--seconds S] [--file ALERTS.ndjson] [--json] [--write]
 * --file measures on the first 4096 alerts of a file (e.g. a generated scenario) instead of the built-in sample.
 * --write records the result in bench/results/normalize.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { eventId } from '../src/events/event-id.ts';
import { FalcoAlertSchema, type FalcoAlert } from '../src/events/falco-alert.ts';
import { parseAlertFast } from '../src/events/falco-alert-fast.ts';
import { DEFAULT_EVENT_LIMITS } from '../src/events/limits.ts';
import { NdjsonSplitter } from '../src/events/ndjson.ts';
import { createNormalizer } from '../src/events/normalize.ts';
import { hasFlag, numberFlag, stringFlag } from './args.ts';

const rounds = numberFlag('--rounds', 5);
const secondsPerCase = numberFlag('--seconds', 1);

/** Realistic alerts (stable-rule outputs and fields as Falco 0.38 writes them), varied so nothing is cached. */
function sampleLines(n: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const ns = 1715678504123456789n + BigInt(i) * 7919n;
    const frac = String(ns % 1000000000n).padStart(9, '0');
    const time = `${new Date(Number(ns / 1000000n)).toISOString().slice(0, 19)}.${frac}Z`;
    const pod = `web-${(i % 97).toString(36)}-7c5ddbdf54-x${i % 13}`;
    const cid = (0x5d1e1f0c3a2b + (i % 251)).toString(16);
    const common = { hostname: `worker-${i % 7}`, source: 'syscall', time };
    const alert =
      i % 2 === 0
        ? {
            ...common,
            output: `${time}: Notice A shell was spawned in a container with an attached terminal (user=root process=bash command=bash -il container_id=${cid} image=nginx k8s_ns=web k8s_pod_name=${pod})`,
            priority: 'Notice',
            rule: 'Terminal shell in container',
            tags: ['T1059', 'container', 'mitre_execution', 'shell'],
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
            ...common,
            output: `${time}: Warning Sensitive file opened for reading (file=/etc/shadow command=cat /etc/shadow container_id=${cid})`,
            priority: 'Warning',
            rule: 'Read sensitive file untrusted',
            tags: ['T1555', 'filesystem', 'mitre_credential_access'],
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

const file = stringFlag('--file');
const lines =
  file === undefined
    ? sampleLines(4096)
    : readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(0, 4096);
const ndjson = Buffer.from(`${lines.join('\n')}\n`);
const avgBytes = Math.round(ndjson.length / lines.length);
// Built only by the cases that use them, so that no other case carries their retained heap.
let parsedCache: unknown[] | undefined;
const parsed = (): unknown[] => (parsedCache ??= lines.map((l) => JSON.parse(l) as unknown));
const normalize = createNormalizer();
let validatedCache: FalcoAlert[] | undefined;
const validated = (): FalcoAlert[] =>
  (validatedCache ??= parsed().map((p) => parseAlertFast(p, DEFAULT_EVENT_LIMITS)!));

/** Each case processes the whole sample once and returns how many events it handled. */
const cases: Record<string, () => number> = {
  'JSON.parse': () => {
    for (const l of lines) JSON.parse(l);
    return lines.length;
  },
  'JSON.parse + normalize': () => {
    for (const l of lines) normalize(JSON.parse(l));
    return lines.length;
  },
  'JSON.parse + normalize + id': () => {
    for (const l of lines) if (normalize(JSON.parse(l)).id.length !== 32) throw new Error('bad id');
    return lines.length;
  },
  'NDJSON bytes: toString + split + JSON.parse': () => {
    const all = ndjson.toString('utf8').split('\n');
    let n = 0;
    for (const l of all) {
      if (l.length === 0) continue;
      JSON.parse(l);
      n++;
    }
    return n;
  },
  'NDJSON bytes: splitter + normalize': () => {
    // Each record handled as it comes, as a streaming consumer does (nothing accumulates).
    let n = 0;
    const splitter = new NdjsonSplitter({ decode: normalize }, (r) => {
      if (r.ok) n++;
    });
    splitter.push(ndjson);
    splitter.end();
    return n;
  },
  'normalize (pre-parsed)': () => {
    const all = parsed();
    for (const p of all) normalize(p);
    return all.length;
  },
  'fast validator (pre-parsed)': () => {
    const all = parsed();
    for (const p of all) parseAlertFast(p, DEFAULT_EVENT_LIMITS);
    return all.length;
  },
  'zod safeParse (pre-parsed)': () => {
    const all = parsed();
    for (const p of all) FalcoAlertSchema.safeParse(p);
    return all.length;
  },
  'id: sha256 of canonical form': () => {
    const all = validated();
    for (const a of all) eventId({ ...a, hostname: a.hostname ?? '', fields: a.output_fields });
    return all.length;
  },
};

function runFor(fn: () => number, seconds: number): number {
  const budget = seconds * 1e9;
  let events = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < budget) {
    events += fn();
    elapsed = Number(process.hrtime.bigint() - start);
  }
  return events / (elapsed / 1e9);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

// Child mode: measure one case in a fresh process, so that no case's JIT feedback or garbage affects another.
const caseName = stringFlag('--case');
if (caseName !== undefined) {
  const fn = cases[caseName ?? ''];
  if (fn === undefined) throw new Error(`unknown case ${caseName}`);
  runFor(fn, Math.max(0.3, secondsPerCase)); // warm up
  process.stdout.write(`${JSON.stringify({ eventsPerSecond: runFor(fn, secondsPerCase) })}\n`);
  process.exit(0);
}

function measureInChild(name: string): number {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--case',
      name,
      '--seconds',
      String(secondsPerCase),
      ...(file === undefined ? [] : ['--file', file]),
    ],
    { encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`case ${name} failed: ${child.stderr}`);
  return (JSON.parse(child.stdout) as { eventsPerSecond: number }).eventsPerSecond;
}

const rates: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
const ratios: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  const thisRound: Record<string, number> = {};
  for (const name of Object.keys(cases)) thisRound[name] = measureInChild(name);
  for (const name of Object.keys(cases)) {
    rates[name]!.push(thisRound[name]!);
    ratios[name]!.push(thisRound[name]! / thisRound['JSON.parse']!);
  }
}

const report = {
  bench: 'normalize',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  /** 1-minute load average when the run ended: above the core count, absolute figures are inflated. */
  loadAverage: Number(loadavg()[0]!.toFixed(2)),
  input: file === undefined ? 'built-in sample of 4096 alerts' : `first ${lines.length} alerts of ${file}`,
  avgEventBytes: avgBytes,
  rounds,
  secondsPerCase,
  note: 'each case runs in its own process (warm-up, then the timed run); median over interleaved rounds; relativeToJsonParse is the median of per-round ratios',
  results: Object.keys(cases).map((name) => {
    const eps = median(rates[name]!);
    return {
      name,
      eventsPerSecond: Math.round(eps),
      nsPerEvent: Math.round(1e9 / eps),
      relativeToJsonParse: Number(median(ratios[name]!).toFixed(3)),
    };
  }),
};

if (hasFlag('--json')) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`avg event ${avgBytes} bytes, ${report.node}, ${report.cpu}, median of ${rounds} rounds`);
  for (const r of report.results) {
    console.log(
      `${r.name.padEnd(46)} ${String(r.eventsPerSecond).padStart(9)} ev/s ${String(r.nsPerEvent).padStart(6)} ns/ev  ${r.relativeToJsonParse.toFixed(3)}× JSON.parse`,
    );
  }
}
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const name = file === undefined ? 'normalize.json' : 'normalize-file.json';
  writeFileSync(new URL(`./results/${name}`, import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
}
