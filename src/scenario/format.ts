/**
 * Falco's output formatting, reproduced: a rule's output is literal text with
 * `%field` tokens; Falco prefixes `*%evt.time: <Priority> ` (or
 * `%evt.time.iso8601` with time_format_iso_8601), substitutes each token with the
 * field's text, and, with json_output, puts every field of the format into
 * `output_fields` (typed: numbers stay numbers, a missing value is null and
 * prints as `<NA>`, a list prints as `(a,b)`).
 */
import type { FieldValue, Priority } from '../events/types.ts';

/** A field token: class.name with optional dotted parts and one [argument] (proc.aname[2], jevt.value[/a/b]). */
const FIELD_TOKEN = /%([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*(?:\[[^\]]*\])?)/g;

export type TimeFormat = 'default' | 'iso8601';

/** The time field Falco puts before every output, by its time_format_iso_8601 setting. */
export function timeField(format: TimeFormat): string {
  return format === 'iso8601' ? 'evt.time.iso8601' : 'evt.time';
}

export interface CompiledFormat {
  /** literals[i] precedes fields[i]; literals has one more element than fields. */
  readonly literals: readonly string[];
  readonly fields: readonly string[];
  /** Distinct fields of the format plus the time field, sorted: the keys of output_fields as Falco writes them. */
  readonly keys: readonly string[];
}

export function compileFormat(format: string, timeFormat: TimeFormat = 'default'): CompiledFormat {
  const literals: string[] = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of format.matchAll(FIELD_TOKEN)) {
    literals.push(format.slice(last, m.index));
    fields.push(m[1] as string);
    last = (m.index as number) + m[0].length;
  }
  literals.push(format.slice(last));
  const keys = [...new Set([...fields, timeField(timeFormat)])].sort();
  return { literals, fields, keys };
}

/** A field value as Falco prints it in `output`. */
export function fieldText(value: FieldValue): string {
  if (value === null) return '<NA>';
  if (Array.isArray(value)) return `(${value.map((v) => (v === null ? '<NA>' : String(v))).join(',')})`;
  return String(value);
}

/** The rendered output line: `<time>: <Priority> <format with fields substituted>`. */
export function renderOutput(
  compiled: CompiledFormat,
  timeText: string,
  priority: Priority,
  valueOf: (field: string) => FieldValue,
): string {
  let out = `${timeText}: ${priority} ${compiled.literals[0] as string}`;
  for (let i = 0; i < compiled.fields.length; i++) {
    out += fieldText(valueOf(compiled.fields[i] as string)) + (compiled.literals[i + 1] as string);
  }
  return out;
}
