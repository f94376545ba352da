/**
 * Numeric CSV tables (a header line, then numbers) such as the ODDS benchmark
 * sets: features become a row-major Float64Array, and an optional 0/1 label
 * column is split off so it can never leak into training.
 */
import { readTextFile } from '../util/read-text-file.ts';
import { FalconerError } from '../errors.ts';

export interface NumericTable {
  /** Feature column names, in order (the label column removed). */
  names: string[];
  /** Row-major features, n * d. */
  data: Float64Array;
  n: number;
  d: number;
  /** 0/1 per row (1 = anomaly) when the label column was present. */
  labels: Uint8Array | null;
}

export interface CsvOptions {
  /** Label column name (default 'label'); null reads every column as a feature. */
  label?: string | null;
  /** Whether a missing label column is an error (default false). */
  requireLabel?: boolean;
  /** File name for error messages. */
  source?: string;
}

// Plain decimal numbers only: Number() would also accept '', ' ', '0x1f' and 'Infinity'.
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function csvError(why: string, where: Record<string, unknown>, source: string | undefined): never {
  const at =
    where.line === undefined
      ? ''
      : ` (line ${String(where.line)}${where.column ? `, column ${String(where.column)}` : ''})`;
  throw new FalconerError('CSV_INVALID', `${why}${at}`, {
    ...(source ? { file: source } : {}),
    ...where,
    why,
  });
}

function unquote(field: string): string {
  const t = field.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : t;
}

export function parseNumericCsv(text: string, options: CsvOptions = {}): NumericTable {
  const { source } = options;
  const labelName = options.label === undefined ? 'label' : options.label;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length === 0) csvError('file is empty: a header line is expected', {}, source);

  const header = lines[0]!.split(',').map(unquote);
  header.forEach((name, i) => {
    if (name === '') csvError('empty column name in header', { line: 1, column: i + 1 }, source);
  });
  const seen = new Set<string>();
  for (const [i, name] of header.entries()) {
    if (seen.has(name)) csvError(`duplicate column name '${name}'`, { line: 1, column: i + 1 }, source);
    seen.add(name);
  }
  const labelIndex = labelName === null ? -1 : header.indexOf(labelName);
  if (labelIndex < 0 && labelName !== null && options.requireLabel) {
    csvError(`no label column '${labelName}' in header`, { line: 1, columns: header.length }, source);
  }
  const width = header.length;
  const d = labelIndex < 0 ? width : width - 1;
  if (d < 1) csvError('no feature columns besides the label', { line: 1 }, source);
  const names = header.filter((_, i) => i !== labelIndex);

  const rowLines: number[] = [];
  for (let i = 1; i < lines.length; i++) if (lines[i]!.trim() !== '') rowLines.push(i);
  const n = rowLines.length;
  const data = new Float64Array(n * d);
  const labels = labelIndex < 0 ? null : new Uint8Array(n);
  for (let r = 0; r < n; r++) {
    const lineNo = rowLines[r]! + 1;
    const fields = lines[rowLines[r]!]!.split(',');
    if (fields.length !== width) {
      csvError(`expected ${width} fields, found ${fields.length}`, { line: lineNo }, source);
    }
    let j = 0;
    for (let c = 0; c < width; c++) {
      const raw = fields[c]!.trim();
      if (!NUMBER.test(raw)) {
        csvError(
          `'${raw.slice(0, 40)}' is not a number`,
          { line: lineNo, column: c + 1, name: header[c] },
          source,
        );
      }
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        csvError(
          `'${raw.slice(0, 40)}' is out of range`,
          { line: lineNo, column: c + 1, name: header[c] },
          source,
        );
      }
      if (c === labelIndex) {
        if (value !== 0 && value !== 1) {
          csvError(
            `label must be 0 or 1, found ${raw}`,
            { line: lineNo, column: c + 1, name: header[c] },
            source,
          );
        }
        labels![r] = value;
      } else {
        data[r * d + j++] = value;
      }
    }
  }
  return { names, data, n, d, labels };
}

export async function loadNumericCsv(path: string, options: CsvOptions = {}): Promise<NumericTable> {
  const text = await readTextFile(path, 'CSV file');
  return parseNumericCsv(text, { ...options, source: options.source ?? path });
}
