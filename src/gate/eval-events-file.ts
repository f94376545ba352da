/**
 * `gate eval --events FILE.ndjson`: streams a (labelled) Falco alert file
 * through the online gate evaluation. Labels come from a line-aligned sidecar
 * (default FILE.labels.ndjson, as `falconer scenario generate` writes it).
 */
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { FalconerError } from '../errors.ts';
import { createNormalizer } from '../events/normalize.ts';
import { parseNdjson, type NdjsonRecord } from '../events/ndjson.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { EventStreamEvaluator, type EventLabel, type EventStreamReport } from './eval-events.ts';
import type { GateOptions } from './gate.ts';

export interface EventFileEvalOptions {
  /** Labels sidecar; default `${file}.labels.ndjson` when it exists. */
  labels?: string;
  gate?: GateOptions;
}

export interface EventFileReport extends EventStreamReport {
  file: string;
  labelsFile: string | null;
}

/** A label line as the scenario generator writes it; anything else is refused with its line number. */
export function parseLabel(value: unknown, line: number, file: string): EventLabel {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FalconerError('USAGE', 'label line is not a JSON object', { file, line });
  }
  const v = value as Record<string, unknown>;
  if (v.label !== 'benign' && v.label !== 'attack') {
    throw new FalconerError('USAGE', 'label must be "benign" or "attack"', { file, line });
  }
  const str = (k: string): string | null => (typeof v[k] === 'string' ? (v[k] as string) : null);
  return {
    line,
    label: v.label,
    kind: str('kind') ?? (v.label === 'attack' ? 'unknown' : 'benign'),
    technique: str('technique'),
    attackId: str('attackId'),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function openStream(path: string): AsyncIterable<Buffer> {
  const stream = createReadStream(path);
  stream.on('error', () => {}); // surfaced by the iterator below
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as Buffer;
    } catch (err) {
      throw new FalconerError(
        'IO_ERROR',
        `cannot read ${path}: ${(err as Error).message}`,
        { path },
        { cause: err },
      );
    }
  })();
}

export async function evaluateEventFile(
  file: string,
  opts: EventFileEvalOptions = {},
): Promise<EventFileReport> {
  let labelsFile: string | null = opts.labels ?? `${file}.labels.ndjson`;
  if (!(await exists(labelsFile))) {
    if (opts.labels !== undefined)
      throw new FalconerError('IO_ERROR', 'labels file not found', { path: opts.labels });
    labelsFile = null;
  }
  const normalize = createNormalizer();
  const evaluator = new EventStreamEvaluator({ ...(opts.gate ? { gate: opts.gate } : {}) });
  const alerts = parseNdjson<NormalizedEvent>(openStream(file), { decode: (v) => normalize(v) });
  const labels =
    labelsFile === null
      ? undefined
      : parseNdjson<EventLabel>(openStream(labelsFile), {
          decode: (v, line) => parseLabel(v, line, labelsFile!),
        })[Symbol.asyncIterator]();
  let pending: NdjsonRecord<EventLabel> | undefined;

  for await (const rec of alerts) {
    let label: EventLabel | undefined;
    if (labels !== undefined) {
      // Both files skip blank lines; align on line numbers.
      while (pending === undefined || pending.line < rec.line) {
        const next = await labels.next();
        if (next.done === true)
          throw new FalconerError('USAGE', 'labels end before the alerts do', { line: rec.line });
        pending = next.value;
      }
      if (pending.line !== rec.line)
        throw new FalconerError('USAGE', 'no label for alert line', { line: rec.line });
      if (!pending.ok)
        throw new FalconerError('USAGE', `bad label line: ${pending.reason}`, {
          file: labelsFile,
          line: pending.line,
        });
      label = pending.event;
    }
    if (rec.ok) evaluator.addEvent(rec.event, label);
    else evaluator.reject(`line ${rec.line}: ${rec.reason}`);
  }
  return { file, labelsFile, ...evaluator.report() };
}
