/**
 * What an agent start costs: CPU seconds (user + system, all threads) and wall
 * time from `falconer agent <name>` to its "agent ready" log line, median of
 * --runs starts per agent, beside the floor of `node` alone and `node` with
 * tsx registered, measured in the same run (the machine is shared).
 *   node --import tsx bench/agent-start.ts [--runs N] [--agents a,b] [--baseline DIR] [--cpu-prof] [--write]
 * --bin FILE: start agents with another entry point (e.g. an esbuild bundle run by plain node, to
 * see what tsx costs) instead of bin/falconer.js.
 * --baseline DIR: a checkout of an older commit (e.g. `git archive <commit> | tar -x -C DIR`, with
 * node_modules linked in); its agents start alternately with these, and the result has both and the ratios.
 * With --cpu-prof each agent's first start writes a V8 profile under
 * ~/.cache/falconer/agent-start-prof/ (open in Chrome DevTools).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevPki } from '../src/a2a/pki.ts';
import { AGENT_NAMES, type AgentName } from '../src/agents/contracts.ts';
import { ensureSecretFile } from '../src/platform/launch.ts';
import { platformPorts } from '../test/support/platform-env.ts';
import { hasFlag, numberFlag, stringFlag } from './args.ts';
import { loadAverage, machineInfo } from './machine.ts';

const RUNS = numberFlag('--runs', 3);
const AGENTS = (stringFlag('--agents')?.split(',') ?? [...AGENT_NAMES]) as AgentName[];
const BIN = stringFlag('--bin') ?? fileURLToPath(new URL('../bin/falconer.js', import.meta.url));
const BASELINE = stringFlag('--baseline');
const BASELINE_BIN = BASELINE === undefined ? undefined : join(BASELINE, 'bin', 'falconer.js');
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;
const PROF_DIR = join(homedir(), '.cache', 'falconer', 'agent-start-prof');

/** utime + stime of a live process (every thread), in seconds. */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

interface Start {
  cpuS: number;
  wallMs: number;
}

async function startOnce(
  args: string[],
  env: Record<string, string>,
  readyLine: string,
  nodeFlags: string[] = [],
): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let early: (() => void) | undefined;
  const result = await new Promise<Start>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no "${readyLine}" in 120 s: ${stderr}`)), 120_000);
    // pino writes to stderr under some configs and stdout under others: watch both.
    const watch = (d: Buffer): void => {
      buf += d.toString();
      if (buf.includes(readyLine) && timer.hasRef()) {
        clearTimeout(timer);
        timer.unref();
        resolve({ cpuS: cpuSecondsOf(child.pid!), wallMs: performance.now() - t0 });
      }
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    early = () => reject(new Error(`exited before ready: ${stderr.slice(-2000)}`));
    child.once('exit', early);
  });
  if (early) child.off('exit', early);
  child.kill('SIGTERM');
  await exited;
  return result;
}

/** CPU of a short-lived command: it idles at the end so that /proc can be read before it exits. */
async function floor(nodeFlags: string[]): Promise<Start> {
  const script = "process.stdout.write('agent ready\\n'); setTimeout(() => {}, 60000);";
  return startOnce(['-e', script], {}, 'agent ready', nodeFlags);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function summarize(starts: Start[]): { cpuS: number; wallMs: number; runs: number } {
  return {
    cpuS: Number(median(starts.map((s) => s.cpuS)).toFixed(2)),
    wallMs: Math.round(median(starts.map((s) => s.wallMs))),
    runs: starts.length,
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'falconer-agent-start-'));
try {
  // A fresh state directory per run (no model file, empty databases), each with the dev PKI.
  for (let run = 0; run < RUNS; run++) {
    for (const dir of [join(dataDir, `run-${run}`), join(dataDir, `run-${run}`, 'baseline')]) {
      await ensureDevPki({
        dir: join(dir, 'pki'),
        trustDomain: 'falconer.local',
        namespace: 'default',
        agents: AGENT_NAMES,
      });
    }
  }
  const tokenFile = join(dataDir, 'api-token');
  ensureSecretFile(tokenFile);
  const ports = await platformPorts();
  const env = { ...ports.env, FALCONER_COORDINATOR_API_TOKEN_FILE: tokenFile };
  if (hasFlag('--cpu-prof')) mkdirSync(PROF_DIR, { recursive: true });
  const loadBefore = loadAverage();

  const floors = { node: [] as Start[], nodeWithTsx: [] as Start[] };
  const agents: Record<string, Start[]> = {};
  const baseline: Record<string, Start[]> = {};
  for (let run = 0; run < RUNS; run++) {
    floors.node.push(await floor([]));
    floors.nodeWithTsx.push(await floor(['--import', 'tsx']));
    for (const name of AGENTS) {
      const prof =
        hasFlag('--cpu-prof') && run === 0
          ? ['--cpu-prof', '--cpu-prof-dir', PROF_DIR, '--cpu-prof-name', `${name}.cpuprofile`]
          : [];
      const start = await startOnce(
        [BIN, 'agent', name, '--data-dir', join(dataDir, `run-${run}`)],
        env,
        '"msg":"agent ready"',
        prof,
      );
      (agents[name] ??= []).push(start);
      process.stderr.write(
        `${name} run ${run + 1}: ${start.cpuS.toFixed(2)} CPU-s, ${Math.round(start.wallMs)} ms\n`,
      );
      if (BASELINE_BIN !== undefined) {
        const base = await startOnce(
          [BASELINE_BIN, 'agent', name, '--data-dir', join(dataDir, `run-${run}`, 'baseline')],
          env,
          '"msg":"agent ready"',
        );
        (baseline[name] ??= []).push(base);
        process.stderr.write(`${name} run ${run + 1} baseline: ${base.cpuS.toFixed(2)} CPU-s\n`);
      }
    }
  }
  const result = {
    benchmark: 'agent-start',
    description:
      'CPU seconds (user+system, all threads, from /proc) and wall ms from spawning `falconer agent <name>` to its "agent ready" log line; median of runs; floors: node -e and node --import tsx -e',
    floors: { node: summarize(floors.node), nodeWithTsx: summarize(floors.nodeWithTsx) },
    agents: Object.fromEntries(Object.entries(agents).map(([n, s]) => [n, summarize(s)])),
    ...(BASELINE !== undefined && {
      baseline: Object.fromEntries(Object.entries(baseline).map(([n, s]) => [n, summarize(s)])),
      cpuRatioToBaseline: Object.fromEntries(
        Object.entries(agents).map(([n, s]) => [
          n,
          Number((summarize(s).cpuS / summarize(baseline[n] ?? []).cpuS).toFixed(2)),
        ]),
      ),
    }),
    machine: { ...machineInfo(), loadAverageBefore: loadBefore, loadAverageAfter: loadAverage() },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (hasFlag('--write')) {
    const out = fileURLToPath(new URL('./results/agent-start.json', import.meta.url));
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
