/**
 * Gate quality on a labelled Falco event stream, measured exactly as the gate
 * runs in production: online, in stream order, with its warm-up, its scheduled
 * retraining and score-then-learn. Labels are read only here, never by the
 * gate: they live in a sidecar, outside the Falco fields.
 *
 * An attack counts as detected when at least one of its events is forwarded
 * (it then reaches an agent as a signal); its time to signal is the event time
 * of that first forwarded event minus the attack's first event time.
 */
import { FalconerError, describeError } from '../errors.ts';
import { createNormalizer, type Normalizer } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { rocAuc } from './auc.ts';
import { FEATURE_COUNT } from './featurizer.ts';
import { Gate, type GateDecision, type GateOptions } from './gate.ts';

/** One line of a scenario's labels sidecar, aligned with the alert on the same line. */
export interface EventLabel {
  line?: number;
  label: 'benign' | 'attack';
  kind?: string | null;
  technique?: string | null;
  attackId?: string | null;
}

export interface EvaluateEventsOptions {
  gate?: GateOptions;
  normalizer?: Normalizer;
}

export interface AttackKindReport {
  attacks: number;
  detected: number;
  recall: number;
  /** ATT&CK technique(s) of the kind's attacks, comma-separated when its variants differ. */
  technique: string | null;
}

export interface EventStreamReport {
  /** ROC AUC of the model scores (events scored by a model; warm-up events have none). */
  auc: number | null;
  /** Events processed by the gate. */
  n: number;
  d: number;
  /** Lines that failed to normalize (skipped, as ingest would). */
  rejected: number;
  trainMs: number;
  /** Time in the gate (featurize + score + forward + signals) excluding training. */
  scoreMs: number;
  trainings: number;
  /** Events seen before the first model served. */
  warmupEvents: number;
  forwarded: number;
  forwardRate: number;
  /** Forward rate among benign events only (null without labels). */
  benignForwardRate: number | null;
  signals: number;
  attacks: number | null;
  attacksDetected: number | null;
  attackRecall: number | null;
  attackEvents: number | null;
  attackEventsForwarded: number | null;
  perKind: Record<string, AttackKindReport>;
  medianMsToSignal: number | null;
  p95MsToSignal: number | null;
  threshold: number | null;
  forwardRateTarget: number;
}

interface AttackTrack {
  kind: string;
  technique: string | null;
  firstMs: number;
  firstForwardMs: number;
}

function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Feeds events (and their labels) one at a time; report() summarizes. */
export class EventStreamEvaluator {
  readonly gate: Gate;
  private readonly normalize: Normalizer;
  private readonly forwardRateTarget: number;
  private readonly scores: number[] = [];
  private readonly scoreLabels: number[] = [];
  private readonly attacks = new Map<string, AttackTrack>();
  private labelled = false;
  private n = 0;
  private rejected = 0;
  private forwarded = 0;
  private benign = 0;
  private benignForwarded = 0;
  private attackEvents = 0;
  private attackEventsForwarded = 0;
  private warmupEvents = 0;
  private gateMs = 0;
  private trainMs = 0;
  private lastRejection: string | undefined;

  constructor(opts: EvaluateEventsOptions = {}) {
    this.gate = new Gate(opts.gate);
    this.normalize = opts.normalizer ?? createNormalizer();
    this.forwardRateTarget = opts.gate?.forwardRate ?? 0.005;
  }

  /** Why the last rejected line was rejected (for a CLI summary). */
  get lastRejectionReason(): string | undefined {
    return this.lastRejection;
  }

  /** Normalizes and decides one alert; undefined when it does not normalize (counted as rejected). */
  add(raw: unknown, label?: EventLabel): GateDecision | undefined {
    let ev: NormalizedEvent;
    try {
      ev = this.normalize(raw);
    } catch (err) {
      this.reject(describeError(err));
      return undefined;
    }
    return this.addEvent(ev, label);
  }

  /** Counts an input that never became an event (bad JSON, bad schema): skipped, as ingest would. */
  reject(reason: string): void {
    this.rejected++;
    this.lastRejection = reason;
  }

  addEvent(ev: NormalizedEvent, label?: EventLabel): GateDecision {
    const trainingsBefore = this.gate.trainingCount;
    const started = performance.now();
    const decision = this.gate.process(ev);
    const elapsed = performance.now() - started;
    const trainedMs = this.gate.trainingMsTotal;
    if (this.gate.trainingCount !== trainingsBefore) {
      // The event triggered a retrain: that time is training, not scoring.
      const delta = trainedMs - this.trainMs;
      this.gateMs += Math.max(0, elapsed - delta);
    } else {
      this.gateMs += elapsed;
    }
    this.trainMs = trainedMs;
    this.n++;
    if (decision.modelVersion === null) this.warmupEvents++;
    if (decision.forwarded) this.forwarded++;

    if (label === undefined) return decision;
    this.labelled = true;
    const isAttack = label.label === 'attack';
    if (decision.reason === 'anomaly' || decision.reason === 'normal') {
      this.scores.push(decision.score);
      this.scoreLabels.push(isAttack ? 1 : 0);
    }
    if (!isAttack) {
      this.benign++;
      if (decision.forwarded) this.benignForwarded++;
      return decision;
    }
    this.attackEvents++;
    if (decision.forwarded) this.attackEventsForwarded++;
    const id = label.attackId ?? `${label.kind ?? 'attack'}@${label.line ?? this.n}`;
    let track = this.attacks.get(id);
    if (track === undefined) {
      track = {
        kind: label.kind ?? 'unknown',
        technique: label.technique ?? null,
        firstMs: ev.timeMs,
        firstForwardMs: Number.NaN,
      };
      this.attacks.set(id, track);
    }
    if (ev.timeMs < track.firstMs) track.firstMs = ev.timeMs;
    if (decision.forwarded && !(ev.timeMs >= track.firstForwardMs)) track.firstForwardMs = ev.timeMs;
    return decision;
  }

  report(): EventStreamReport {
    const perKind: Record<string, AttackKindReport> = {};
    const delays: number[] = [];
    let detected = 0;
    for (const a of this.attacks.values()) {
      const k = (perKind[a.kind] ??= { attacks: 0, detected: 0, recall: 0, technique: a.technique });
      // A kind may span several techniques (variants): list each once.
      if (a.technique !== null && !(k.technique ?? '').split(', ').includes(a.technique)) {
        k.technique =
          k.technique === null ? a.technique : [...k.technique.split(', '), a.technique].sort().join(', ');
      }
      k.attacks++;
      if (!Number.isNaN(a.firstForwardMs)) {
        k.detected++;
        detected++;
        delays.push(Math.max(0, a.firstForwardMs - a.firstMs));
      }
    }
    for (const k of Object.values(perKind)) k.recall = k.attacks === 0 ? 0 : k.detected / k.attacks;
    delays.sort((a, b) => a - b);
    const auc = this.scores.length > 0 ? rocAuc(this.scores, this.scoreLabels) : Number.NaN;
    const stats = this.gate.stats;
    const labelled = this.labelled;
    return {
      auc: Number.isNaN(auc) ? null : auc,
      n: this.n,
      d: FEATURE_COUNT,
      rejected: this.rejected,
      trainMs: this.trainMs,
      scoreMs: this.gateMs,
      trainings: stats.trainings,
      warmupEvents: this.warmupEvents,
      forwarded: this.forwarded,
      forwardRate: this.n === 0 ? 0 : this.forwarded / this.n,
      benignForwardRate: labelled && this.benign > 0 ? this.benignForwarded / this.benign : null,
      signals: stats.signalsOpened,
      attacks: labelled ? this.attacks.size : null,
      attacksDetected: labelled ? detected : null,
      attackRecall: labelled && this.attacks.size > 0 ? detected / this.attacks.size : null,
      attackEvents: labelled ? this.attackEvents : null,
      attackEventsForwarded: labelled ? this.attackEventsForwarded : null,
      perKind,
      medianMsToSignal: quantile(delays, 0.5),
      p95MsToSignal: quantile(delays, 0.95),
      threshold: stats.threshold,
      forwardRateTarget: this.forwardRateTarget,
    };
  }
}

/**
 * Runs the gate online over `alerts` (raw Falco alert JSON values) with the
 * line-aligned `labels`, and reports detection quality and timings.
 */
export function evaluateEventStream(
  alerts: Iterable<unknown>,
  labels: Iterable<EventLabel> | undefined,
  opts: EvaluateEventsOptions = {},
): EventStreamReport {
  const evaluator = new EventStreamEvaluator(opts);
  const labelIt = labels?.[Symbol.iterator]();
  let line = 0;
  for (const raw of alerts) {
    line++;
    let label: EventLabel | undefined;
    if (labelIt !== undefined) {
      const next = labelIt.next();
      if (next.done === true) {
        throw new FalconerError('USAGE', 'labels end before the alerts do', { line });
      }
      label = next.value;
      if (label.line !== undefined && label.line !== line) {
        throw new FalconerError('USAGE', 'labels are not aligned with the alerts', {
          line,
          labelLine: label.line,
        });
      }
    }
    evaluator.add(raw, label);
  }
  return evaluator.report();
}
