/**
 * NDJSON lines of a scenario. Alerts are pure Falco JSON; `evt.time` is written
 * with its exact nanosecond digits, as Falco writes it (a double cannot hold
 * them; JSON.parse of the line gives back the same number as the object has).
 */
import type { FalcoAlertJson, ScenarioLabel } from './types.ts';

const EVT_TIME_KEY = '"evt.time":';

/** Exact epoch nanoseconds of a Falco `time` (2025-03-04T09:12:33.123456789Z), or undefined if it is not that shape. */
export function exactNanos(time: string): string | undefined {
  if (time.length !== 30 || time[29] !== 'Z' || time[19] !== '.') return undefined;
  const ms = Date.parse(`${time.slice(0, 23)}Z`);
  if (Number.isNaN(ms)) return undefined;
  return `${ms}${time.slice(23, 29)}`;
}

/** One alert as a JSON line (no trailing newline). */
export function alertLine(alert: FalcoAlertJson): string {
  const json = JSON.stringify(alert);
  const exact = exactNanos(alert.time);
  if (exact === undefined || Number(exact) !== alert.output_fields['evt.time']) return json;
  // `"evt.time":` can only be the key: inside JSON strings every quote is escaped.
  const at = json.indexOf(EVT_TIME_KEY);
  if (at < 0) return json;
  const from = at + EVT_TIME_KEY.length;
  let to = from;
  for (
    let c = json.charCodeAt(to);
    (c >= 48 && c <= 57) || c === 101 || c === 43 || c === 46;
    c = json.charCodeAt(++to)
  );
  return json.slice(0, from) + exact + json.slice(to);
}

export function labelLine(label: ScenarioLabel): string {
  return JSON.stringify(label);
}
