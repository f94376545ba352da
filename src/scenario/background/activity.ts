/**
 * A background activity is one kind of legitimate behaviour that makes Falco
 * rules fire: it starts episodes (a request burst, an admin's session, a CI
 * pipeline) at a Poisson rate shaped by the time of day, and each episode emits
 * a few alert drafts over the following seconds or minutes.
 */
import type { RuleId } from '../catalog.ts';
import type { Cluster } from '../cluster.ts';
import type { KernelEvent } from '../detect.ts';
import type { Facts } from '../facts.ts';
import type { ScenarioRandom } from '../random.ts';

export interface EpisodeContext {
  readonly cluster: Cluster;
  readonly rng: ScenarioRandom;
  /** Episode start, nanoseconds after the scenario start. */
  readonly now: number;
  /** Scenario start, epoch ms. */
  readonly startMs: number;
  /** Emit one alert of `rule` `dt` nanoseconds after the episode start (Kubernetes audit alerts). */
  emit(dt: number, rule: RuleId, facts: Facts): void;
  /** Emit every alert Falco raises for this kernel event, `dt` nanoseconds after the episode start. */
  kernel(dt: number, ev: KernelEvent): void;
}

/** How often episodes start: a share of the steady background rate, or a fixed number per hour at the rhythm's peak. */
export type Intensity = { readonly share: number } | { readonly perHour: number };

/** Relative intensity at an hour of the day (UTC, fractional) and weekday (0 = Sunday). */
export interface Rhythm {
  readonly name: string;
  at(hour: number, weekday: number): number;
  /** An upper bound of at(), for thinning. */
  readonly peak: number;
}

export interface BackgroundActivity {
  readonly name: string;
  /**
   * Steady machine activity (requests, controllers, scrapes) takes a share of
   * --rate; people and pipelines (admins, CI, nightly jobs, rollouts) happen a
   * fixed number of times per hour whatever the rate, as they would in a real cluster.
   */
  readonly intensity: Intensity;
  readonly rhythm: Rhythm;
  /** False when the cluster lacks the workloads this activity needs. */
  available(cluster: Cluster): boolean;
  /** One episode starting at the context's time. */
  episode(ctx: EpisodeContext): void;
}

const isWeekend = (weekday: number): boolean => weekday === 0 || weekday === 6;

/** Office hours, local = UTC: 08:00-19:00 on weekdays, with a lunch dip. */
export function inOfficeHours(hour: number, weekday: number): boolean {
  return !isWeekend(weekday) && hour >= 8 && hour < 19;
}

export const FLAT: Rhythm = { name: 'flat', peak: 1, at: () => 1 };

/** Customer traffic: lowest around 04:00, highest in the afternoon; a bit lower at weekends. */
export const TRAFFIC: Rhythm = {
  name: 'traffic',
  peak: 1,
  at: (hour, weekday) => {
    const diurnal = 0.3 + 0.7 * (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24));
    return isWeekend(weekday) ? 0.85 * diurnal : diurnal;
  },
};

/** Sessions open by 18:59 so that their first alerts (exec, shell, debug container) land before 19:00. */
const LAST_SESSION_HOUR = 18 + 59 / 60;

/** People at work: sessions start only between 08:00 and 18:59 on weekdays. */
export const OFFICE: Rhythm = {
  name: 'office',
  peak: 1,
  at: (hour, weekday) => {
    if (!inOfficeHours(hour, weekday) || hour >= LAST_SESSION_HOUR) return 0;
    return hour >= 12 && hour < 13 ? 0.5 : 1;
  },
};

/** CI: pushes during office hours, a few in the evening, the nightly scheduled pipelines at 02:00. */
export const CI: Rhythm = {
  name: 'ci',
  peak: 1,
  at: (hour, weekday) => {
    if (hour >= 2 && hour < 2.5) return 0.7;
    if (isWeekend(weekday)) return 0.03;
    if (inOfficeHours(hour, weekday)) return hour >= 12 && hour < 13 ? 0.6 : 1;
    if (hour >= 19 && hour < 22) return 0.15;
    return 0.02;
  },
};

/** Batch jobs scheduled at night (00:30-04:30). */
export const NIGHT: Rhythm = {
  name: 'night',
  peak: 1,
  at: (hour) => (hour >= 0.5 && hour < 4.5 ? 1 : 0),
};

/** Deployments: mostly in office hours, occasionally a hotfix at night. */
export const DEPLOYS: Rhythm = {
  name: 'deploys',
  peak: 1,
  at: (hour, weekday) => (inOfficeHours(hour, weekday) ? 1 : 0.04),
};
