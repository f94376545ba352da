/**
 * Scenario time: event times are integer nanoseconds relative to the scenario
 * start (exact in a double for about 100 days), turned into Falco's spellings only
 * when an alert is rendered. The start is a whole millisecond.
 */

export const NS_PER_MS = 1_000_000;
export const NS_PER_SECOND = 1_000_000_000;
export const NS_PER_MINUTE = 60 * NS_PER_SECOND;
export const NS_PER_HOUR = 60 * NS_PER_MINUTE;
export const MS_PER_DAY = 86_400_000;

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** One instant, as every Falco spelling of it. */
export interface FalcoTime {
  /** `time` of the alert: 2025-03-04T09:12:33.123456789Z */
  readonly iso: string;
  /** Exact epoch nanoseconds as decimal digits (beyond a double's precision). */
  readonly nsDigits: string;
  /** Epoch nanoseconds as the nearest double, as JSON.parse would read nsDigits. */
  readonly ns: number;
  /** `%evt.time` (Falco's default time_format_iso_8601: false): 09:12:33.123456789 */
  readonly clock: string;
  /** `%evt.time.iso8601`: 2025-03-04T09:12:33.123456789+0000 */
  readonly iso8601: string;
}

/**
 * Formats instants relative to a start; events come in time order, so the
 * date and clock of the current second are kept and reused.
 */
export class FalcoClock {
  private second = Number.NaN;
  private date = '';
  private hms = '';

  constructor(private readonly startMs: number) {}

  at(relNs: number): FalcoTime {
    const ms = this.startMs + Math.floor(relNs / NS_PER_MS);
    const subMs = relNs % NS_PER_MS;
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      const d = new Date(second * 1000);
      this.second = second;
      this.date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
      this.hms = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
    }
    const clock = `${this.hms}.${pad(ms - second * 1000, 3)}${pad(subMs, 6)}`;
    const nsDigits = `${ms}${pad(subMs, 6)}`;
    return {
      iso: `${this.date}T${clock}Z`,
      nsDigits,
      ns: Number(nsDigits),
      clock,
      iso8601: `${this.date}T${clock}+0000`,
    };
  }
}

/** The instant `relNs` nanoseconds after `startMs` (epoch ms, integer). */
export function falcoTime(startMs: number, relNs: number): FalcoTime {
  return new FalcoClock(startMs).at(relNs);
}

/** Hour of the day (UTC, fractional) and day of the week (0 = Sunday) at `relNs`. */
export function clockAt(startMs: number, relNs: number): { hour: number; weekday: number } {
  const ms = startMs + relNs / NS_PER_MS;
  const dayMs = ((ms % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
  const days = Math.floor(ms / MS_PER_DAY);
  // 1970-01-01 was a Thursday (4).
  return { hour: dayMs / 3_600_000, weekday: (((days + 4) % 7) + 7) % 7 };
}
