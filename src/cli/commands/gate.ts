/**
 * `falconer gate …`: offline tools around the Isolation Forest gate.
 *
 * `gate eval` has one mode per input kind (`--csv` today); exactly one mode
 * option must be given. A new mode is one more entry in EVAL_MODES plus its
 * option on the command.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { FalconerError } from '../../errors.ts';
import { loadNumericCsv } from '../../gate/csv.ts';
import { evaluateTable } from '../../gate/eval-csv.ts';
import { evaluateEventFile } from '../../gate/eval-events-file.ts';
import type { IsolationForestParams } from '../../gate/iforest.ts';
import { integer } from '../options.ts';
import type { CommandRegistrar } from '../registry.ts';

export interface GateEvalOptions {
  csv?: string;
  events?: string;
  labels?: string;
  forwardRate?: number;
  label: string;
  seed: number;
  trees: number;
  sampleSize: number;
  json?: boolean;
}

/** A result printed as JSON with --json, or as `key: value` lines otherwise. */
type EvalReport = object;

interface EvalMode {
  /** The option that selects the mode. */
  option: keyof GateEvalOptions & string;
  run(opts: GateEvalOptions, forest: Partial<IsolationForestParams>): Promise<EvalReport>;
}

const EVAL_MODES: EvalMode[] = [
  {
    option: 'csv',
    async run(opts, forest) {
      const table = await loadNumericCsv(opts.csv!, { label: opts.label, requireLabel: true });
      return evaluateTable(table, forest);
    },
  },
  {
    option: 'events',
    async run(opts, forest) {
      return evaluateEventFile(opts.events!, {
        ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
        gate: {
          forest: { trees: forest.trees, sampleSize: forest.sampleSize },
          ...(forest.seed !== undefined ? { seed: forest.seed } : {}),
          ...(opts.forwardRate !== undefined ? { forwardRate: opts.forwardRate } : {}),
        },
      });
    },
  },
];

function rate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 0.5))
    throw new InvalidArgumentError('expected a forward rate in (0, 0.5]');
  return n;
}

function printReport(report: EvalReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  for (const [key, value] of Object.entries(report)) {
    const shown =
      typeof value === 'number' && !Number.isInteger(value) ? value.toFixed(4) : JSON.stringify(value);
    process.stdout.write(`${key}: ${shown}\n`);
  }
}

export async function runGateEval(opts: GateEvalOptions): Promise<EvalReport> {
  const chosen = EVAL_MODES.filter((m) => opts[m.option] !== undefined);
  if (chosen.length !== 1) {
    throw new FalconerError(
      'USAGE',
      `gate eval needs exactly one of ${EVAL_MODES.map((m) => `--${m.option}`).join(', ')}`,
      {
        given: chosen.map((m) => m.option),
      },
    );
  }
  return chosen[0]!.run(opts, { seed: opts.seed, trees: opts.trees, sampleSize: opts.sampleSize });
}

export const registerGateCommands: CommandRegistrar = (program: Command) => {
  const gate = program.command('gate').description('Isolation Forest gate: evaluation and model tools');
  gate
    .command('eval')
    .description('Train unsupervised on a labelled input (labels withheld) and report the AUC and timings')
    .option('--csv <file>', 'numeric CSV with a header line and a 0/1 label column')
    .option(
      '--events <file>',
      'NDJSON Falco alerts, run through the online gate (featurizer, warm-up, retraining)',
    )
    .option('--labels <file>', 'labels sidecar of --events (default FILE.labels.ndjson when present)')
    .option('--forward-rate <r>', 'target forward rate of the gate for --events (default 0.005)', rate)
    .option('--label <name>', 'label column of the CSV (1 = anomaly)', 'label')
    .option('--seed <n>', 'RNG seed', integer(Number.MIN_SAFE_INTEGER), 1)
    .option('--trees <t>', 'number of trees', integer(1), 100)
    .option('--sample-size <psi>', 'subsample size per tree', integer(2), 256)
    .option('--json', 'print one JSON object')
    .action(async (opts: GateEvalOptions) => {
      printReport(await runGateEval(opts), opts.json === true);
    });
};
