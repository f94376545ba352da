/**
 * Rule evaluation throughput on one core (not a test): events/s per rule with
 * compiled conditions over normalized scenario events (each rule sees an
 * event's output_fields, as the backtester does). Representative official
 * rules from the stable/incubating/sandbox files, plus candidate-style rules
 * over fields alerts carry (these evaluate most of their clauses, so they are
 * the realistic backtest cost) and a never-matching 40-clause rule as a worst
 * case. Next to them a pass that only reads `ev.fields` (the loop's floor).
 * Rules are interleaved over rounds; medians reported (shared, noisy machine).
 *   node --import tsx bench/rules.ts [--events N] [--rounds R] [--write]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNormalizer } from '../src/events/normalize.ts';
import type { NormalizedEvent } from '../src/events/types.ts';
import { backtest, compileCandidate } from '../src/rules/backtest.ts';
import { compileRuleSources } from '../src/rules/ruleset.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { hasFlag, numberFlag } from './args.ts';

const count = numberFlag('--events', 200_000);
const rounds = numberFlag('--rounds', 5);
const TARGET = 200_000;

const rulesDir = fileURLToPath(new URL('../../shared/data/falco/rules/', import.meta.url));
const officialFiles = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'].map(
  (f) => ({
    file: f,
    text: readFileSync(join(rulesDir, f), 'utf8'),
  }),
);

const normalize = createNormalizer();
const events: NormalizedEvent[] = [];
for (const { alert } of generateScenario({ seed: 11, minutes: 60 })) {
  events.push(normalize(alert));
  if (events.length >= count) break;
}

const official = compileRuleSources(officialFiles);
const OFFICIAL = [
  'Terminal shell in container',
  'Read sensitive file untrusted',
  'Drop and execute new binary in container',
  'Contact K8S API Server From Container',
  'Launch Package Management Process in Container',
  'Redirect STDOUT/STDIN to Network Connection in Container',
];
type Case = { name: string; kind: string; matches: (f: NormalizedEvent['fields']) => boolean };
const cases: Case[] = [];
for (const name of OFFICIAL) {
  const r = official.syscall.find((x) => x.def.name === name);
  if (r !== undefined) cases.push({ name, kind: 'official', matches: r.matches });
}
const candidate = (name: string, condition: string): Case => {
  const r = compileCandidate(
    `- rule: ${JSON.stringify(name)}\n  desc: bench\n  condition: ${JSON.stringify(condition)}\n  output: o\n  priority: NOTICE`,
    officialFiles,
  );
  return { name, kind: 'candidate', matches: r.matches };
};
cases.push(
  candidate(
    'candidate: shell in a web container',
    'evt.type in (execve, execveat) and proc.name in (shell_binaries) and proc.pname in (http_server_binaries) and container.image.repository exists',
  ),
  candidate(
    'candidate: miner ports',
    'evt.type = connect and fd.rport in (3333, 4444, 5555, 7777, 14444, 14433) and not proc.name in (shell_binaries)',
  ),
  candidate(
    'candidate: drop to /dev/shm',
    'proc.exepath startswith /dev/shm or proc.cwd pmatch (/dev/shm, /tmp) or proc.cmdline contains "/dev/shm/"',
  ),
  candidate(
    'worst case: 40 clauses, never true',
    Array.from({ length: 40 }, (_, i) => `proc.cmdline contains "zz-${i}-never"`).join(' or '),
  ),
);
cases.unshift({ name: 'floor: read ev.fields only', kind: 'floor', matches: (f) => f === undefined });

function timeCase(c: Case): { eps: number; hits: number } {
  let hits = 0;
  for (let i = 0; i < 20_000 && i < events.length; i++) if (c.matches(events[i]!.fields)) hits++;
  hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) if (c.matches(events[i]!.fields)) hits++;
  const ms = performance.now() - t0;
  return { eps: Math.round((events.length * 1000) / ms), hits };
}

const samples = new Map<string, number[]>();
const hits = new Map<string, number>();
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    const { eps, hits: h } = timeCase(c);
    (samples.get(c.name) ?? samples.set(c.name, []).get(c.name)!).push(eps);
    hits.set(c.name, h);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// The backtester end to end (incident split and labels bookkeeping included), on the first candidate.
const bt = cases.find((c) => c.kind === 'candidate')!;
// First pass over fresh events: backtest reads no event id (no id set, no label map), so the
// normalizer's lazy id hash is not paid; then the same with an id set, which must hash every event.
const btFirst = backtest({ name: bt.name, matches: bt.matches }, events, { labels: new Map() });
const btIds = backtest({ name: bt.name, matches: bt.matches }, events, {
  incidentEventIds: new Set(['none']),
});
const btReport = backtest({ name: bt.name, matches: bt.matches }, events, { labels: new Map() });

const results = cases.map((c) => {
  const eps = median(samples.get(c.name)!);
  return {
    name: c.name,
    kind: c.kind,
    eventsPerSecond: eps,
    nsPerEvent: Math.round(1e9 / eps),
    hits: hits.get(c.name)!,
    meetsTarget: c.kind === 'floor' ? undefined : eps >= TARGET,
  };
});
const report = {
  bench: 'rules',
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  loadAverage: Number(loadavg()[0]!.toFixed(2)),
  events: events.length,
  input: "scenario seed 11 (default rate), normalized; rules see each event's output_fields",
  rounds,
  targetEventsPerSecond: TARGET,
  note: 'one core, compiled closures, median of interleaved rounds; official syscall rules mostly stop early on alerts because fields such as evt.dir are not in output_fields',
  results,
  backtest: {
    rule: bt.name,
    eventsPerSecond: btReport.eventsPerSecond,
    firstPassEventsPerSecond: btFirst.eventsPerSecond,
    firstPassNote:
      'first pass over fresh events; backtest reads no event id unless given an id set or an id-keyed label map',
    withIncidentIdsFirstPassEventsPerSecond: btIds.eventsPerSecond,
    withIncidentIdsNote:
      'an incident id set makes backtest read every event id: the first read hashes it (src/events normalizer)',
    hits: btReport.hits,
  },
};
for (const r of results)
  process.stdout.write(
    `${String(r.eventsPerSecond).padStart(10)} ev/s  ${String(r.hits).padStart(7)} hits  ${r.name}\n`,
  );
process.stdout.write(
  `backtest(): ${btReport.eventsPerSecond} ev/s (first pass ${btFirst.eventsPerSecond}, first pass with an id set ${btIds.eventsPerSecond})\n`,
);
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/rules.json', import.meta.url), `${JSON.stringify(report, null, 2)}\n`);
}
