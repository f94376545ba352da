/** Scenario options: defaults, validation, and the seed-derived start instant. */
import { FalconerError } from '../errors.ts';
import { ScenarioRandom } from './random.ts';
import { MS_PER_DAY } from './time.ts';
import type { ScenarioOptions } from './types.ts';

export const DEFAULT_MINUTES = 60;
export const DEFAULT_RATE = 200;
/** 60 days: event times stay exact integers of nanoseconds in a double. */
export const MAX_MINUTES = 60 * 24 * 60;
export const MAX_RATE = 1_000_000;

/** Tuesday 7 January 2025, 00:00 UTC: the first day a default scenario can start on. */
const FIRST_TUESDAY_MS = Date.UTC(2025, 0, 7);

export interface ResolvedScenarioOptions {
  readonly seed: number;
  readonly minutes: number;
  readonly rate: number;
  readonly start: Date;
}

/**
 * The default start of a seed: a Tuesday (one of 52 consecutive weeks of 2025)
 * at a whole hour between 08:00 and 17:00 UTC, so that a default one-hour
 * scenario happens in office hours (admins at work, CI busy); longer scenarios
 * run into the evening and the night (batch jobs, nightly pipelines).
 */
export function defaultStart(seed: number): Date {
  const rng = ScenarioRandom.stream(seed, 'start');
  const week = rng.int(52);
  const hour = 8 + rng.int(10);
  return new Date(FIRST_TUESDAY_MS + week * 7 * MS_PER_DAY + hour * 3_600_000);
}

function invalid(message: string, context: Record<string, unknown>): never {
  throw new FalconerError('USAGE', message, context);
}

export function resolveScenarioOptions(opts: ScenarioOptions): ResolvedScenarioOptions {
  const { seed } = opts;
  if (!Number.isSafeInteger(seed)) invalid('scenario seed must be a safe integer', { seed: String(seed) });
  const minutes = opts.minutes ?? DEFAULT_MINUTES;
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_MINUTES) {
    invalid(`scenario minutes must be a number in (0, ${MAX_MINUTES}]`, { minutes: String(minutes) });
  }
  const rate = opts.rate ?? DEFAULT_RATE;
  if (!Number.isFinite(rate) || rate <= 0 || rate > MAX_RATE) {
    invalid(`scenario rate must be a number of events per second in (0, ${MAX_RATE}]`, {
      rate: String(rate),
    });
  }
  const start = opts.start ?? defaultStart(seed);
  if (!(start instanceof Date) || Number.isNaN(start.getTime()))
    invalid('scenario start must be a valid date', { start: String(start) });
  // Whole milliseconds: sub-millisecond parts come from the event times.
  return { seed, minutes, rate, start: new Date(Math.floor(start.getTime())) };
}
