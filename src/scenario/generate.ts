/**
 * The scenario generator: a synthetic cluster's Falco alerts, benign background
 * and injected attacks, produced lazily in time order (memory stays flat however
 * long the scenario), each with its ground-truth label. Same options, same bytes.
 *
 *   for (const { alert, label } of generateScenario({ seed: 7 })) …
 *   const attacks = scenarioAttacks({ seed: 7 });
 */
import type { BackgroundActivity, EpisodeContext } from './background/activity.ts';
import { BACKGROUND_ACTIVITIES } from './background/index.ts';
import { planAttacks, type PlannedAttack } from './attacks/plan.ts';
import { buildCluster, type Cluster } from './cluster.ts';
import { firedRules } from './detect.ts';
import { DraftHeap } from './heap.ts';
import { resolveScenarioOptions, type ResolvedScenarioOptions } from './options.ts';
import { ScenarioRandom } from './random.ts';
import { AlertRenderer, type Draft } from './render.ts';
import { clockAt, NS_PER_MINUTE, NS_PER_SECOND } from './time.ts';
import type { AttackManifestEntry, ScenarioEvent, ScenarioOptions } from './types.ts';

export interface ScenarioPlan {
  readonly options: ResolvedScenarioOptions;
  readonly startMs: number;
  readonly durationNs: number;
  readonly cluster: Cluster;
  readonly attacks: readonly PlannedAttack[];
}

/** The cluster and the attacks of a scenario (no background): cheap, and what scenarioAttacks reports. */
export function planScenario(opts: ScenarioOptions): ScenarioPlan {
  const options = resolveScenarioOptions(opts);
  const startMs = options.start.getTime();
  const durationNs = Math.round(options.minutes * NS_PER_MINUTE);
  const cluster = buildCluster(ScenarioRandom.stream(options.seed, 'cluster'), startMs);
  const attacks = planAttacks(
    cluster,
    ScenarioRandom.stream(options.seed, 'attacks'),
    startMs,
    durationNs,
    options.minutes,
  );
  return { options, startMs, durationNs, cluster, attacks };
}

/** The attack manifest of a scenario: every injected attack with its technique, workload, times and alert count. */
export function scenarioAttacks(opts: ScenarioOptions): AttackManifestEntry[] {
  return planScenario(opts).attacks.map((a) => a.manifest);
}

const CALIBRATION_EPISODES = 200;

/** Mean alerts per episode of an activity, measured on episodes drawn from a separate stream. */
function meanAlertsPerEpisode(
  activity: BackgroundActivity,
  cluster: Cluster,
  startMs: number,
  rng: ScenarioRandom,
): number {
  let alerts = 0;
  const ctx: EpisodeContext = {
    cluster,
    rng,
    now: 0,
    startMs,
    emit: () => {
      alerts++;
    },
    kernel: (_dt, ev) => {
      alerts += firedRules(ev).length;
    },
  };
  for (let i = 0; i < CALIBRATION_EPISODES; i++) activity.episode(ctx);
  return Math.max(alerts / CALIBRATION_EPISODES, 1e-3);
}

interface Source {
  readonly activity: BackgroundActivity;
  /** Episode rate at the rhythm's peak, per nanosecond: the thinning envelope. */
  readonly peakRate: number;
  next: number;
}

/**
 * Episode rates from --rate: people and pipelines at their own hourly rates;
 * machine activity fills the rest of the requested mean alert rate, split by share.
 */
function backgroundSources(plan: ScenarioPlan, rng: ScenarioRandom): Source[] {
  const { cluster, startMs, durationNs, options } = plan;
  const active = BACKGROUND_ACTIVITIES.filter((a) => a.available(cluster));
  const calibration = ScenarioRandom.stream(options.seed, 'calibration');
  const mean = new Map(
    active.map((a) => [a, meanAlertsPerEpisode(a, cluster, startMs, calibration.fork(a.name))]),
  );
  // Mean rhythm of each activity over the scenario window, sampled each minute.
  const samples = Math.max(2, Math.min(100_000, Math.ceil(durationNs / NS_PER_MINUTE) + 1));
  const avgRhythm = new Map<BackgroundActivity, number>();
  for (const a of active) {
    let sum = 0;
    for (let i = 0; i < samples; i++) {
      const { hour, weekday } = clockAt(startMs, (durationNs * i) / (samples - 1));
      sum += a.rhythm.at(hour, weekday);
    }
    avgRhythm.set(a, sum / samples);
  }
  let episodicAlertsPerSecond = 0;
  let steadyWeight = 0;
  for (const a of active) {
    const r = avgRhythm.get(a) as number;
    if ('perHour' in a.intensity)
      episodicAlertsPerSecond += (a.intensity.perHour / 3600) * r * (mean.get(a) as number);
    else steadyWeight += a.intensity.share * r;
  }
  // Below a few alerts per second people would dominate: scale them down to at most half of the rate.
  const episodicScale =
    episodicAlertsPerSecond > 0 ? Math.min(1, (0.5 * options.rate) / episodicAlertsPerSecond) : 1;
  const steadyAlertsPerSecond = options.rate - episodicAlertsPerSecond * episodicScale;
  return active.map((a) => {
    const perSecond =
      'perHour' in a.intensity
        ? (a.intensity.perHour / 3600) * episodicScale
        : steadyWeight > 0
          ? (steadyAlertsPerSecond * a.intensity.share) / steadyWeight / (mean.get(a) as number)
          : 0;
    const peakRate = (perSecond * a.rhythm.peak) / NS_PER_SECOND;
    return { activity: a, peakRate, next: peakRate > 0 ? rng.exp(peakRate) : Infinity };
  });
}

/**
 * Alerts of the scenario, in time order, with their labels. Lazy: pull as many
 * as you need; memory holds only the episodes in flight.
 */
export function* generateScenario(opts: ScenarioOptions): Generator<ScenarioEvent> {
  const plan = planScenario(opts);
  const { startMs, durationNs, cluster } = plan;
  const rng = ScenarioRandom.stream(plan.options.seed, 'background');
  const sources = backgroundSources(plan, rng);
  const renderer = new AlertRenderer(startMs);
  const heap = new DraftHeap();
  const attackDrafts = plan.attacks.flatMap((a) => a.drafts).sort((a, b) => a.t - b.t);
  let attackIndex = 0;
  let now = 0;
  const push = (draft: Draft): void => {
    if (draft.t < durationNs) heap.push(draft);
  };
  const ctx: EpisodeContext = {
    cluster,
    rng,
    get now() {
      return now;
    },
    startMs,
    emit: (dt, rule, facts) => push({ t: now + Math.round(dt), rule, facts }),
    kernel: (dt, ev) => {
      const t = now + Math.round(dt);
      for (const rule of firedRules(ev)) push({ t, rule, facts: ev.facts });
    },
  };

  let line = 0;
  for (;;) {
    // The next episode start among the sources (few: a linear scan is cheapest).
    let source: Source | undefined;
    for (const s of sources) if (source === undefined || s.next < source.next) source = s;
    const pending = heap.peek();
    const attack = attackDrafts[attackIndex];
    const nextDraftT = Math.min(pending?.t ?? Infinity, attack?.t ?? Infinity);
    if (source !== undefined && source.next < durationNs && source.next <= nextDraftT) {
      now = Math.round(source.next);
      const { hour, weekday } = clockAt(startMs, now);
      const { rhythm } = source.activity;
      // Thinning: candidates at the peak rate, kept with probability rhythm/peak.
      if (rng.next() * rhythm.peak < rhythm.at(hour, weekday)) source.activity.episode(ctx);
      source.next += rng.exp(source.peakRate);
      continue;
    }
    if (nextDraftT >= durationNs) return;
    // Background first when times tie: a deterministic order either way.
    const draft =
      pending !== undefined && pending.t <= nextDraftT
        ? (heap.pop() as Draft)
        : (attackDrafts[attackIndex++] as Draft);
    line++;
    const tag = draft.attack;
    yield {
      alert: renderer.render(draft),
      label:
        tag === undefined
          ? { line, label: 'benign', kind: null, technique: null, attackId: null }
          : { line, label: 'attack', kind: tag.kind, technique: tag.technique, attackId: tag.id },
    };
  }
}
