/**
 * `falconer rules …`: Falco rules tools.
 *   rules validate FILE... [--json]      located errors per file (exit 1 when any)
 *   rules test --rules FILE... --events FILE... [--source syscall|k8s_audit] [--json]
 */
import { InvalidArgumentError, type Command } from 'commander';
import { readEventsFile } from '../../rules/events-file.ts';
import type { AuditEvent } from '../../rules/fields/k8s-audit.ts';
import type { OutputFields } from '../../rules/fields/syscall.ts';
import { countDetections, readRulesFiles, validateSources } from '../../rules/validate.ts';
import type { RuleSource } from '../../rules/ruleset.ts';

function source(value: string): RuleSource {
  if (value !== 'syscall' && value !== 'k8s_audit')
    throw new InvalidArgumentError('expected syscall or k8s_audit');
  return value;
}

export async function runRulesValidate(files: string[], json: boolean): Promise<number> {
  const { files: reports } = validateSources(await readRulesFiles(files));
  if (json) process.stdout.write(`${JSON.stringify(reports)}\n`);
  else {
    for (const f of reports) {
      process.stdout.write(
        `${f.file}: ${f.rules} rules, ${f.macros} macros, ${f.lists} lists, ${f.errors.length} errors\n`,
      );
      for (const e of f.errors)
        process.stdout.write(`  ${e.file}:${e.line}:${e.column}: ${e.message}\n    ${e.text}\n`);
    }
  }
  return reports.some((f) => f.errors.length > 0) ? 1 : 0;
}

export interface RulesTestOptions {
  rules: string[];
  events: string[];
  source: RuleSource;
  json?: boolean;
}

export async function runRulesTest(opts: RulesTestOptions): Promise<number> {
  const { files, ruleSet } = validateSources(await readRulesFiles(opts.rules));
  const errors = files.flatMap((f) => f.errors);
  for (const e of errors) process.stderr.write(`${e.file}:${e.line}:${e.column}: ${e.message}\n`);
  const events: (OutputFields | AuditEvent)[] = [];
  for (const f of opts.events) events.push(...(await readEventsFile(f, opts.source)));
  const report = countDetections(ruleSet, opts.source, events);
  if (opts.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(`events: ${report.events}\n`);
    for (const [rule, n] of Object.entries(report.detections)) process.stdout.write(`${n}\t${rule}\n`);
  }
  return errors.length > 0 ? 1 : 0;
}

export function registerRulesCommands(program: Command): void {
  const rules = program.command('rules').description('Falco rules: validate, test on events');
  rules
    .command('validate')
    .description('Load Falco rules files together (in order) and report located errors per file')
    .argument('<files...>', 'rules files, in load order')
    .option('--json', 'print one JSON array of {file, rules, macros, lists, errors}')
    .action(async (files: string[], opts: { json?: boolean }) => {
      process.exitCode = await runRulesValidate(files, opts.json === true);
    });
  rules
    .command('test')
    .description('Evaluate rules over events and count detections per rule')
    .requiredOption('--rules <files...>', 'rules files, in load order')
    .requiredOption(
      '--events <files...>',
      'Falco alert NDJSON (syscall) or Kubernetes audit events (k8s_audit)',
    )
    .option(
      '--source <source>',
      'syscall (alerts: output_fields) or k8s_audit (audit events)',
      source,
      'syscall',
    )
    .option('--json', 'print {events, detections}')
    .action(async (opts: RulesTestOptions) => {
      process.exitCode = await runRulesTest(opts);
    });
}
