/**
 * `falconer scenario generate`: a labelled stream of realistic Falco alerts
 * from a synthetic cluster (benign background + injected attacks).
 *
 * Files: the alerts (pure Falco JSON, one per line), the labels (one per alert
 * line, same order) and the attack manifest. With --out FILE the labels and
 * manifest default to FILE.labels.ndjson and FILE.attacks.json (where
 * `falconer gate eval --events FILE` looks for them); with --out - (stdout, the
 * default) they are written only where --labels / --attacks say, so the alert
 * stream stays pure and nothing lands in the working directory unasked.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import { describeError, FalconerError } from '../../errors.ts';
import { generateScenario, scenarioAttacks } from '../../scenario/generate.ts';
import { DEFAULT_MINUTES, DEFAULT_RATE, resolveScenarioOptions } from '../../scenario/options.ts';
import type { AttackManifestEntry } from '../../scenario/types.ts';
import { ATTACK_KINDS } from '../../scenario/types.ts';
import { writeScenario, type ScenarioWriteSummary } from '../../scenario/write.ts';
import type { CommandRegistrar } from '../registry.ts';

export interface ScenarioGenerateOptions {
  seed: number;
  minutes: number;
  rate: number;
  start?: Date;
  out: string;
  labels?: string;
  attacks?: string;
}

export interface ScenarioGenerateResult extends ScenarioWriteSummary {
  seed: number;
  minutes: number;
  rate: number;
  start: string;
  attacks: AttackManifestEntry[];
  files: { alerts: string; labels: string | null; attacks: string | null };
}

/** Sidecar path next to the alerts file: scn.ndjson → scn.ndjson.labels.ndjson. */
export function sidecarPath(out: string, suffix: string): string {
  return `${out}${suffix}`;
}

function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected an integer');
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a positive number');
  return n;
}

function parseDate(value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new InvalidArgumentError('expected an ISO 8601 date-time, e.g. 2025-03-04T08:00:00Z');
  return d;
}

function openFile(path: string): WriteStream {
  return createWriteStream(path, { encoding: 'utf8' });
}

async function closeStream(stream: Writable, path: string): Promise<void> {
  if (stream === process.stdout) return;
  stream.end();
  try {
    await finished(stream);
  } catch (err) {
    throw new FalconerError('IO_ERROR', `cannot write ${path}: ${describeError(err)}`, { path });
  }
}

export async function runScenarioGenerate(opts: ScenarioGenerateOptions): Promise<ScenarioGenerateResult> {
  const options = resolveScenarioOptions({
    seed: opts.seed,
    minutes: opts.minutes,
    rate: opts.rate,
    ...(opts.start !== undefined && { start: opts.start }),
  });
  const toStdout = opts.out === '-';
  const labelsPath = opts.labels ?? (toStdout ? undefined : sidecarPath(opts.out, '.labels.ndjson'));
  const attacksPath = opts.attacks ?? (toStdout ? undefined : sidecarPath(opts.out, '.attacks.json'));
  if (labelsPath === '-' || attacksPath === '-') {
    throw new FalconerError(
      'USAGE',
      'labels and the attack manifest go to files; only the alerts can go to stdout',
      {
        labels: labelsPath,
        attacks: attacksPath,
      },
    );
  }
  const attacks = scenarioAttacks(options);
  const alerts: Writable = toStdout ? process.stdout : openFile(opts.out);
  const labels = labelsPath === undefined ? undefined : openFile(labelsPath);
  const errors: Error[] = [];
  for (const s of [alerts, labels]) s?.on('error', (err: Error) => errors.push(err));
  let summary: ScenarioWriteSummary;
  try {
    summary = await writeScenario(generateScenario(options), alerts, labels);
  } catch (err) {
    const first = errors[0] ?? err;
    labels?.destroy();
    if (alerts !== process.stdout) alerts.destroy();
    throw new FalconerError('IO_ERROR', `cannot write the scenario: ${describeError(first)}`, {
      out: opts.out,
      ...(labelsPath !== undefined && { labels: labelsPath }),
    });
  }
  await closeStream(alerts, opts.out);
  if (labels !== undefined) await closeStream(labels, labelsPath as string);
  if (attacksPath !== undefined) {
    try {
      await writeFile(attacksPath, `${JSON.stringify(attacks, null, 2)}\n`);
    } catch (err) {
      throw new FalconerError('IO_ERROR', `cannot write ${attacksPath}: ${describeError(err)}`, {
        path: attacksPath,
      });
    }
  }
  return {
    seed: options.seed,
    minutes: options.minutes,
    rate: options.rate,
    start: options.start.toISOString(),
    ...summary,
    attacks,
    files: { alerts: toStdout ? '-' : opts.out, labels: labelsPath ?? null, attacks: attacksPath ?? null },
  };
}

/** The one-line summary printed on stderr. */
export function summaryLine(r: ScenarioGenerateResult): string {
  const perKind = ATTACK_KINDS.map((k) => `${k} ${r.attacks.filter((a) => a.kind === k).length}`).join(', ');
  const share = r.events > 0 ? ((100 * r.attackEvents) / r.events).toFixed(3) : '0';
  const files = [r.files.alerts === '-' ? 'stdout' : r.files.alerts, r.files.labels, r.files.attacks].filter(
    (f) => f !== null,
  );
  return (
    `scenario seed=${r.seed} start=${r.start} minutes=${r.minutes} rate=${r.rate}/s: ${r.events} events, ` +
    `${r.attacks.length} attacks (${perKind}), ${r.attackEvents} attack events (${share} %), ` +
    `${(r.elapsedMs / 1000).toFixed(1)} s -> ${files.join(', ')}\n`
  );
}

export const registerScenarioCommands: CommandRegistrar = (program: Command) => {
  const scenario = program.command('scenario').description('Synthetic, labelled Falco alert streams');
  scenario
    .command('generate')
    .description(
      'Write a labelled NDJSON stream of realistic Falco alerts: benign background from a synthetic cluster with attacks injected',
    )
    .requiredOption('--seed <n>', 'seed: same seed and options, same bytes', parseInteger)
    .option('--minutes <m>', 'duration in minutes of scenario time', parsePositive, DEFAULT_MINUTES)
    .option('--rate <r>', 'mean background alerts per second', parsePositive, DEFAULT_RATE)
    .option(
      '--start <iso>',
      'start instant (default: a Tuesday 08:00-17:00 UTC derived from the seed)',
      parseDate,
    )
    .option('--out <file>', "alerts NDJSON file, or '-' for stdout", '-')
    .option(
      '--labels <file>',
      'labels NDJSON, one line per alert (default: <out>.labels.ndjson; none with stdout)',
    )
    .option('--attacks <file>', 'attack manifest JSON (default: <out>.attacks.json; none with stdout)')
    .action(async (opts: ScenarioGenerateOptions) => {
      const result = await runScenarioGenerate(opts);
      process.stderr.write(summaryLine(result));
    });
};
