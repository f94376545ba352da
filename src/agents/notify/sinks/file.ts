/**
 * The default sink, which needs nothing outside the machine: appends one JSON
 * line per notification to `<dataDir>/notifications.ndjson` (mode 0600) and
 * prints a one-line summary. Appends are serialized so lines never interleave.
 */
import { mkdir, appendFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { NotifyInput } from '../../contracts.ts';
import { oneLine } from '../escape.ts';
import { viewOf } from '../format.ts';
import { SinkError, type Notifier } from '../types.ts';

export interface FileSinkOptions {
  readonly name: string;
  readonly path: string;
  /** One-line summaries go here (stdout by default); undefined = none. */
  readonly print?: ((line: string) => void) | undefined;
}

export function summaryLine(n: NotifyInput): string {
  const v = viewOf(n);
  const verdict = v.verdict === undefined ? '' : ` verdict=${v.verdict}(${(v.confidence ?? 0).toFixed(2)})`;
  const actions = v.proposals.length === 0 ? '' : ` actions=${v.proposals.map((p) => p.kind).join(',')}`;
  return oneLine(
    `[falconer] ${v.title}: severity=${v.severity} incident=${v.incidentId} workload=${v.workload}${verdict}${actions}`,
    400,
  );
}

export function fileNotifier(opts: FileSinkOptions): Notifier {
  let chain: Promise<void> = Promise.resolve();
  let dirReady: Promise<unknown> | undefined;
  return {
    kind: 'file',
    name: opts.name,
    send(message, signal) {
      const line = `${JSON.stringify({ at: new Date().toISOString(), notification: message })}\n`;
      const write = async (): Promise<void> => {
        signal.throwIfAborted();
        dirReady ??= mkdir(dirname(opts.path), { recursive: true, mode: 0o700 });
        try {
          await dirReady;
          await appendFile(opts.path, line, { mode: 0o600 });
        } catch (err) {
          throw new SinkError(`${opts.name}: cannot append to ${opts.path}`, {
            sink: opts.name,
            retryable: true,
            cause: err,
          });
        }
        opts.print?.(summaryLine(message));
      };
      const result = chain.then(write, write);
      chain = result.catch(() => undefined);
      return result;
    },
  };
}
