/**
 * The gate: featurize every event, score it with the serving Isolation Forest,
 * forward the few above the threshold, and group those into signals.
 *
 * Lifecycle
 *  - Featurizer warm-up (first `featurizerWarmupEvents`): events only teach
 *    the featurizer; at an empty state everything is "novel", and such vectors
 *    would teach the model that novelty is normal.
 *  - Model warm-up (until `warmupEvents`): vectors go to the training
 *    reservoir and the calibration window. Nothing is scored; only the
 *    documented rule forwards: Falco priority Critical or more severe
 *    (`warmupForwardMaxPriorityLevel`, null to forward nothing).
 *  - Serving: scored with score-then-learn; retrained on a sliding window
 *    every `retrainEveryEvents` events or `retrainEveryMs` of event time.
 *
 * A new model is built completely on the side and installed with a single
 * reference assignment (model and threshold together), so scoring never sees a
 * half-built model or a threshold calibrated for another model.
 */
import { FalconerError, describeError } from '../errors.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { ForwardedMemory, TrainingFeedback, type Verdict } from './feedback.ts';
import {
  FEATURE_COUNT,
  FEATURE_SCHEMA,
  Featurizer,
  PLAN_SLOTS,
  type FeaturizerOptions,
} from './featurizer.ts';
import { DEFAULT_PARAMS, IsolationForest } from './iforest.ts';
import type { ForwardReason, GateMetrics } from './metrics.ts';
import { loadModel, saveModel, type GateModel } from './model-file.ts';
import { createRng, deriveSeed, type Rng } from './random.ts';
import { Reservoir } from './reservoir.ts';
import {
  SignalGrouper,
  type Signal,
  type SignalOptions,
  type SignalUpdate,
  type SignalUpdateKind,
} from './signals.ts';
import { RetrainJob, type RetrainJobHost, type TrainingSet } from './retrain-job.ts';
import { RecentWindow, checkForwardRate, quantileThreshold } from './threshold.ts';

export interface GateOptions {
  /** Target fraction of events forwarded (default 0.005); the threshold is calibrated to it on every (re)train. */
  forwardRate?: number;
  /** A fixed score threshold instead of calibration. */
  fixedThreshold?: number;
  /** Events seen before the first model is trained (default 20,000). */
  warmupEvents?: number;
  /** Of those, how many only teach the featurizer (default warmupEvents / 4). */
  featurizerWarmupEvents?: number;
  /** During warm-up, forward events at this Falco priority level or more severe (default 2 = Critical); null: none. */
  warmupForwardMaxPriorityLevel?: number | null;
  /** Retrain after this many events (default 100,000). */
  retrainEveryEvents?: number;
  /** …or after this much event time (default 30 min), whichever comes first. */
  retrainEveryMs?: number;
  /** Retrain on schedule inside process() (default true); otherwise only retrain() does. */
  autoRetrain?: boolean;
  /**
   * How a scheduled retrain runs: 'inline' (default) all at once after the event that made it due;
   * 'incremental' a few trees or calibration rows after every RETRAIN_STEP_EVENTS events, the previous
   * model serving until the new one is ready (a service that must keep answering: see retrain-job.ts).
   */
  retrainMode?: 'inline' | 'incremental';
  /** Retrain periods the training window spans: one reservoir per period (default 4). */
  windowPeriods?: number;
  /** Rows sampled for training across the window (default 8192). */
  trainingSampleSize?: number;
  /** Most recent events whose scores set the threshold (default 20,000); re-scored by every new model. */
  calibrationWindow?: number;
  /** Between retrains, re-derive the threshold from the recent scores every this many events (default 1,000; 0: only at retrain). */
  recalibrateEveryEvents?: number;
  /** Isolation Forest trees and subsample size (defaults 100 and 256). */
  forest?: { trees?: number; sampleSize?: number };
  /** Seed of every random choice (reservoirs, forests): same stream + seed ⇒ same decisions. */
  seed?: number;
  /** Forwarded events whose vectors are kept for feedback (default 10,000). */
  feedbackMemory?: number;
  /** Confirmed false positives kept as normal training data (default 1024). */
  falsePositivePool?: number;
  /**
   * Expected copies of each confirmed false positive in every tree's subsample (default 16); false
   * positives take at most 25 % of the training rows. One copy is not enough: a lone point is
   * isolated even faster, a tight cluster of copies is what makes it normal to an Isolation Forest.
   */
  falsePositiveWeight?: number;
  /**
   * Reference rows, as a fraction of the window rows, drawn uniformly over each feature's observed
   * range extended upwards by half of it (default 0.1; 0 turns them off). See docs/features.md ("Beyond the range").
   */
  referenceFraction?: number;
  /** Confirmed attacks remembered to keep their rows out of training (default 4096). */
  attackMemory?: number;
  featurizer?: FeaturizerOptions;
  signals?: SignalOptions;
  metrics?: GateMetrics;
  /** Called for every signal opened or updated (also returned in the decision). */
  onSignal?: (update: SignalUpdate) => void;
}

export type DecisionReason = 'anomaly' | 'normal' | 'warmup' | 'warmup-priority';

export interface GateDecision {
  readonly eventId: string;
  /** Anomaly score in [0, 1]; 0 while no model is serving (reason 'warmup' / 'warmup-priority'). */
  score: number;
  forwarded: boolean;
  /** Version of the model that scored the event, null during warm-up. */
  modelVersion: string | null;
  reason: DecisionReason;
  /** The signal this forwarded event opened or joined (a snapshot). */
  signal?: Signal;
  signalUpdate?: SignalUpdateKind;
}

/**
 * A decision; the event id is read only when asked for, since deriving it
 * (a content hash) costs more than the whole gate and most decisions are
 * "normal" ones nobody looks at.
 */
class Decision implements GateDecision {
  readonly #event: NormalizedEvent;
  readonly score: number;
  readonly forwarded: boolean;
  readonly modelVersion: string | null;
  readonly reason: DecisionReason;
  signal?: Signal;
  signalUpdate?: SignalUpdateKind;

  constructor(
    event: NormalizedEvent,
    score: number,
    forwarded: boolean,
    modelVersion: string | null,
    reason: DecisionReason,
  ) {
    this.#event = event;
    this.score = score;
    this.forwarded = forwarded;
    this.modelVersion = modelVersion;
    this.reason = reason;
  }

  get eventId(): string {
    return this.#event.id;
  }

  toJSON(): Omit<GateDecision, 'signal'> & { signal?: Signal } {
    return {
      eventId: this.eventId,
      score: this.score,
      forwarded: this.forwarded,
      modelVersion: this.modelVersion,
      reason: this.reason,
      ...(this.signal !== undefined ? { signal: this.signal, signalUpdate: this.signalUpdate } : {}),
    };
  }
}

export interface RetrainResult {
  modelVersion: string;
  nTrain: number;
  threshold: number;
  durationMs: number;
  /** False-positive rows mixed in (after repetition). */
  falsePositiveRows: number;
  /** Window rows left out because they are confirmed attacks. */
  attackRowsDropped: number;
}

export interface FeedbackInput {
  eventId: string;
  verdict: Verdict;
}

export interface FeedbackResult {
  applied: boolean;
  /** Why not applied: the event was not forwarded recently (or never). */
  reason?: 'unknown-event';
}

export interface GateStats {
  seen: number;
  scored: number;
  forwarded: number;
  trainings: number;
  modelVersion: string | null;
  threshold: number | null;
  openSignals: number;
  signalsOpened: number;
  featurizerStateBytes: number;
  /** Why the last scheduled retrain failed, if it did (the previous model kept serving). */
  lastRetrainError?: string;
}

const DEFAULTS = {
  forwardRate: 0.005,
  warmupEvents: 20_000,
  warmupForwardMaxPriorityLevel: 2,
  retrainEveryEvents: 100_000,
  retrainEveryMs: 30 * 60_000,
  windowPeriods: 4,
  trainingSampleSize: 8192,
  calibrationWindow: 20_000,
  recalibrateEveryEvents: 1000,
  seed: 1,
  feedbackMemory: 10_000,
  falsePositivePool: 1024,
  falsePositiveWeight: 16,
  referenceFraction: 0.1,
  attackMemory: 4096,
} as const;

/** Events between two steps of an incremental retraining (see retrain-job.ts). */
export const RETRAIN_STEP_EVENTS = 64;
/** Fewer rows than this cannot make a meaningful forest. */
export const MIN_TRAINING_ROWS = 64;
/** Below this many recent vectors the threshold is calibrated on the training rows instead. */
const MIN_CALIBRATION_ROWS = 1000;
const MAX_FALSE_POSITIVE_SHARE = 0.25;
/** processBatch scores at most this many events per kernel call (the embedded bus delivers up to 512). */
const CHUNK_ROWS = 512;
/** Events processBatch plans ahead of featurizing them (at most PLAN_SLOTS; a chunk cut short wastes the rest). */
const PLAN_AHEAD = Math.min(16, PLAN_SLOTS);

interface Serving {
  readonly model: GateModel;
  readonly threshold: number;
  readonly sequence: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1)
    throw new FalconerError('CONFIG_INVALID', `${name} must be a positive integer`, { [name]: v });
  return v;
}

function nonNegativeInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0)
    throw new FalconerError('CONFIG_INVALID', `${name} must be a non-negative integer`, { [name]: v });
  return v;
}

export class Gate {
  readonly featurizer: Featurizer;
  readonly signals: SignalGrouper;
  private readonly forwardRate: number;
  private readonly fixedThreshold: number | undefined;
  private readonly warmupEvents: number;
  private readonly featurizerWarmupEvents: number;
  private readonly warmupForwardMaxLevel: number | null;
  private readonly retrainEveryEvents: number;
  private readonly retrainEveryMs: number;
  private readonly autoRetrain: boolean;
  private readonly retrainMode: 'inline' | 'incremental';
  /** The incremental retraining in progress, and the events seen since its last step. */
  private job: RetrainJob | undefined;
  private jobCredit = 0;
  private readonly trees: number;
  private readonly sampleSize: number;
  private readonly seed: number;
  private readonly falsePositiveWeight: number;
  private readonly referenceFraction: number;
  private readonly metrics: GateMetrics | undefined;
  private readonly onSignal: ((u: SignalUpdate) => void) | undefined;

  private serving: Serving | undefined;
  private readonly vector = new Float64Array(FEATURE_COUNT);
  /** processBatch scratch: one chunk's vectors (row views into one buffer), times, recent-window slots, scores. */
  private readonly chunkRows = new Float64Array(CHUNK_ROWS * FEATURE_COUNT);
  private readonly chunkViews = Array.from({ length: CHUNK_ROWS }, (_, i) =>
    this.chunkRows.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT),
  );
  private readonly chunkTimes = new Float64Array(CHUNK_ROWS);
  private readonly chunkSlots = new Int32Array(CHUNK_ROWS);
  private readonly chunkScores = new Float64Array(CHUNK_ROWS);
  private readonly reservoirs: Reservoir[];
  private readonly reservoirCapacity: number;
  private active = 0;
  private reservoirGeneration = 0;
  private readonly recent: RecentWindow;
  private readonly recalibrateEveryEvents: number;
  private sinceCalibration = 0;
  private readonly memory: ForwardedMemory;
  private readonly feedbackState: TrainingFeedback;

  private seen = 0;
  private scored = 0;
  private forwarded = 0;
  private trainings = 0;
  private sequence = 0;
  private sinceTrain = 0;
  private lastTrainMs = Number.NaN;
  private clockMs = Number.NaN;
  private lastRetrainError: string | undefined;
  private trainMsTotal = 0;

  constructor(options: GateOptions = {}) {
    const o = options;
    this.forwardRate = checkForwardRate(o.forwardRate ?? DEFAULTS.forwardRate);
    if (o.fixedThreshold !== undefined && !(o.fixedThreshold >= 0 && o.fixedThreshold <= 1)) {
      throw new FalconerError('CONFIG_INVALID', 'fixedThreshold must be a score in [0, 1]', {
        fixedThreshold: o.fixedThreshold,
      });
    }
    this.fixedThreshold = o.fixedThreshold;
    this.warmupEvents = nonNegativeInt('warmupEvents', o.warmupEvents ?? DEFAULTS.warmupEvents);
    this.featurizerWarmupEvents = nonNegativeInt(
      'featurizerWarmupEvents',
      o.featurizerWarmupEvents ?? Math.floor(this.warmupEvents / 4),
    );
    const level =
      o.warmupForwardMaxPriorityLevel === undefined
        ? DEFAULTS.warmupForwardMaxPriorityLevel
        : o.warmupForwardMaxPriorityLevel;
    if (level !== null && !(Number.isInteger(level) && level >= 0 && level <= 7)) {
      throw new FalconerError('CONFIG_INVALID', 'warmupForwardMaxPriorityLevel must be 0..7 or null', {
        level,
      });
    }
    this.warmupForwardMaxLevel = level;
    this.retrainEveryEvents = positiveInt(
      'retrainEveryEvents',
      o.retrainEveryEvents ?? DEFAULTS.retrainEveryEvents,
    );
    this.retrainEveryMs = o.retrainEveryMs ?? DEFAULTS.retrainEveryMs;
    if (!(this.retrainEveryMs > 0)) {
      throw new FalconerError('CONFIG_INVALID', 'retrainEveryMs must be positive', {
        retrainEveryMs: this.retrainEveryMs,
      });
    }
    this.autoRetrain = o.autoRetrain ?? true;
    this.retrainMode = o.retrainMode ?? 'inline';
    this.trees = positiveInt('forest.trees', o.forest?.trees ?? DEFAULT_PARAMS.trees);
    this.sampleSize = positiveInt('forest.sampleSize', o.forest?.sampleSize ?? DEFAULT_PARAMS.sampleSize);
    this.seed = o.seed ?? DEFAULTS.seed;
    if (!Number.isSafeInteger(this.seed))
      throw new FalconerError('CONFIG_INVALID', 'seed must be a safe integer', { seed: this.seed });
    this.falsePositiveWeight = positiveInt(
      'falsePositiveWeight',
      o.falsePositiveWeight ?? DEFAULTS.falsePositiveWeight,
    );
    this.referenceFraction = o.referenceFraction ?? DEFAULTS.referenceFraction;
    if (!(this.referenceFraction >= 0 && this.referenceFraction <= 1)) {
      throw new FalconerError('CONFIG_INVALID', 'referenceFraction must be in [0, 1]', {
        referenceFraction: this.referenceFraction,
      });
    }
    this.metrics = o.metrics;
    this.onSignal = o.onSignal;

    this.featurizer = new Featurizer(o.featurizer);
    this.signals = new SignalGrouper(o.signals);
    const periods = positiveInt('windowPeriods', o.windowPeriods ?? DEFAULTS.windowPeriods);
    const sample = positiveInt('trainingSampleSize', o.trainingSampleSize ?? DEFAULTS.trainingSampleSize);
    this.reservoirCapacity = Math.max(1, Math.ceil(sample / periods));
    this.reservoirs = Array.from({ length: periods }, () => this.newReservoir());
    this.recent = new RecentWindow(
      positiveInt('calibrationWindow', o.calibrationWindow ?? DEFAULTS.calibrationWindow),
      FEATURE_COUNT,
    );
    this.recalibrateEveryEvents = nonNegativeInt(
      'recalibrateEveryEvents',
      o.recalibrateEveryEvents ?? DEFAULTS.recalibrateEveryEvents,
    );
    this.memory = new ForwardedMemory(
      positiveInt('feedbackMemory', o.feedbackMemory ?? DEFAULTS.feedbackMemory),
      FEATURE_COUNT,
    );
    this.feedbackState = new TrainingFeedback(
      FEATURE_COUNT,
      positiveInt('falsePositivePool', o.falsePositivePool ?? DEFAULTS.falsePositivePool),
      positiveInt('attackMemory', o.attackMemory ?? DEFAULTS.attackMemory),
    );
  }

  /** The model serving now (undefined during warm-up). */
  get model(): GateModel | undefined {
    return this.serving?.model;
  }

  /** Models trained so far. */
  get trainingCount(): number {
    return this.trainings;
  }

  /** Wall-clock milliseconds spent in retrain() so far. */
  get trainingMsTotal(): number {
    return this.trainMsTotal;
  }

  get threshold(): number | undefined {
    return this.serving?.threshold;
  }

  get stats(): GateStats {
    return {
      seen: this.seen,
      scored: this.scored,
      forwarded: this.forwarded,
      trainings: this.trainings,
      modelVersion: this.serving?.model.modelVersion ?? null,
      threshold: this.serving?.threshold ?? null,
      openSignals: this.signals.openCount,
      signalsOpened: this.signals.openedTotal,
      featurizerStateBytes: this.featurizer.stateBytes(),
      ...(this.lastRetrainError !== undefined ? { lastRetrainError: this.lastRetrainError } : {}),
    };
  }

  /**
   * Forwards a scored event above the threshold; without a score (warm-up, or
   * the featurizer still learning) only the warm-up priority rule can forward.
   */
  private decide(
    ev: NormalizedEvent,
    x: Float64Array,
    serving: Serving | undefined,
    score: number | undefined,
    modelVersion: string | null,
  ): Decision {
    let forwarded: boolean;
    let reason: DecisionReason;
    if (serving !== undefined && score !== undefined) {
      forwarded = score >= serving.threshold;
      reason = forwarded ? 'anomaly' : 'normal';
      this.scored++;
      this.metrics?.eventScored(score);
    } else {
      const max = this.warmupForwardMaxLevel;
      forwarded = max !== null && ev.priorityLevel <= max;
      reason = forwarded ? 'warmup-priority' : 'warmup';
      this.metrics?.eventScored(undefined);
    }
    const decision = new Decision(ev, score ?? 0, forwarded, modelVersion, reason);
    if (forwarded) this.forward(ev, x, score ?? 0, reason, decision);
    return decision;
  }

  /** Decides one event: featurize (score-then-learn), score, forward or not, group into a signal. */
  process(ev: NormalizedEvent): GateDecision {
    const x = this.featurizer.featurize(ev, this.vector);
    this.seen++;
    const t = Number.isFinite(ev.timeMs) ? ev.timeMs : Number.isFinite(this.clockMs) ? this.clockMs : 0;
    if (!(t <= this.clockMs)) this.clockMs = t;
    this.signals.advance(t);

    const mature = this.featurizer.eventsLearned > this.featurizerWarmupEvents;
    if (mature) {
      this.reservoirs[this.active]!.add(x);
      this.recent.push(x);
    }

    const serving = this.serving;
    let score: number | undefined;
    if (serving !== undefined && mature) {
      score = serving.model.forest.score(x);
      this.recent.setLastScore(score);
    }
    const decision = this.decide(ev, x, serving, score, serving?.model.modelVersion ?? null);

    if (mature) {
      this.sinceTrain++;
      if (this.autoRetrain) this.retrainIfDue(t);
      if (
        this.recalibrateEveryEvents > 0 &&
        serving !== undefined &&
        ++this.sinceCalibration >= this.recalibrateEveryEvents
      ) {
        this.recalibrate();
      }
    }
    if (this.job !== undefined) this.advanceRetrain(1);
    return decision;
  }

  /**
   * Decides a batch of events, in order, with the same decisions as calling process() on each
   * (same stream + seed ⇒ same scores, thresholds, forwards and signals), but faster: the batch is
   * cut into chunks, each featurized event by event (score-then-learn, as in process()), then scored
   * in one call of the forest's branch-free batch kernel, then decided in order. A chunk ends right
   * after an event at which process() would retrain or recalibrate, and that retrain/recalibration
   * runs there, before the next chunk is featurized — so scheduled retraining and threshold updates
   * happen after exactly the same events as with process().
   */
  processBatch(events: readonly NormalizedEvent[]): GateDecision[] {
    const out = new Array<GateDecision>(events.length);
    let start = 0;
    while (start < events.length) start = this.processChunk(events, start, out);
    if (this.job !== undefined) this.advanceRetrain(events.length);
    return out;
  }

  /** One chunk of processBatch from `start`; returns where the next chunk starts. */
  private processChunk(events: readonly NormalizedEvent[], start: number, out: GateDecision[]): number {
    const rows = this.chunkRows;
    const times = this.chunkTimes;
    const slots = this.chunkSlots;
    const limit = Math.min(events.length, start + Math.min(CHUNK_ROWS, this.recent.capacity));
    const serving = this.serving;
    let retrainDue = false;
    let recalibrationDue = false;
    let end = start;
    const featurizer = this.featurizer;
    // Events [planFrom, planEnd) are planned (featurizer slots 0, 1, …): planned a few ahead so
    // that the sketch reads of the next event can be started while this one completes.
    let planFrom = start;
    let planEnd = start;
    // 1. Featurize in order (each against the state before it) and record everything process()
    //    records before scoring; stop after an event that makes a retrain or recalibration due.
    while (end < limit) {
      const ev = events[end]!;
      const i = end - start;
      if (end === planEnd) {
        planFrom = end;
        planEnd = Math.min(limit, end + PLAN_AHEAD);
        // Touch the events to plan in a short loop first: their objects were allocated a whole
        // batch ago and are out of the near caches; independent loads here overlap their misses.
        let sink = 0;
        for (let k = planFrom; k < planEnd; k++) sink += featurizer.touch(events[k]!);
        featurizer.prefetchSink = sink;
        for (let k = planFrom; k < planEnd; k++)
          featurizer.plan(events[k]!, this.chunkViews[k - start]!, k - planFrom);
      }
      if (end + 1 < planEnd) featurizer.prefetch(end + 1 - planFrom);
      const x = featurizer.complete(end - planFrom, this.chunkViews[i]!);
      this.seen++;
      const t = Number.isFinite(ev.timeMs) ? ev.timeMs : Number.isFinite(this.clockMs) ? this.clockMs : 0;
      if (!(t <= this.clockMs)) this.clockMs = t;
      times[i] = t;
      end++;
      if (this.featurizer.eventsLearned > this.featurizerWarmupEvents) {
        this.reservoirs[this.active]!.add(x);
        slots[i] = this.recent.push(x);
        this.sinceTrain++;
        if (this.autoRetrain && this.retrainIsDue(t)) retrainDue = true;
        if (
          this.recalibrateEveryEvents > 0 &&
          serving !== undefined &&
          ++this.sinceCalibration >= this.recalibrateEveryEvents
        ) {
          recalibrationDue = true;
        }
        if (retrainDue || recalibrationDue) break;
      } else {
        slots[i] = -1;
      }
    }
    const n = end - start;
    // 2. Score the chunk at once with the model serving at its start (bit-identical to score()).
    const scores = this.chunkScores;
    if (serving !== undefined) serving.model.forest.scoreBatch(rows, n, scores, true);
    // 3. Decide in order.
    const modelVersion = serving?.model.modelVersion ?? null;
    for (let i = 0; i < n; i++) {
      const ev = events[start + i]!;
      this.signals.advance(times[i]!);
      const slot = slots[i]!;
      let score: number | undefined;
      if (serving !== undefined && slot >= 0) {
        score = scores[i]!;
        this.recent.setScoreAt(slot, score);
      }
      out[start + i] = this.decide(ev, this.chunkViews[i]!, serving, score, modelVersion);
    }
    // 4. The retrain / recalibration process() would run after the chunk's last event.
    if (retrainDue) this.retrainIfDue(times[n - 1]!);
    if (recalibrationDue) this.recalibrate();
    return end;
  }

  /**
   * Trains a model on the sliding window (minus confirmed attacks, plus the
   * false-positive pool), calibrates its threshold on the recent vectors and
   * swaps it in. Throws GATE_NOT_READY when the window holds too few rows.
   * Supersedes an incremental retraining in progress.
   */
  retrain(): RetrainResult {
    const started = performance.now();
    this.job = undefined;
    const set = this.trainingSet();
    const forest = IsolationForest.fit(set.training, set.n, FEATURE_COUNT, this.forestParams(set));
    // Reference rows are synthetic: never calibrate on them.
    let threshold: number;
    if (this.fixedThreshold === undefined) {
      threshold = this.calibrate(forest, set.training, set.n - set.nRef);
    } else {
      threshold = this.fixedThreshold;
      this.rescoreRecent(forest);
    }
    this.slideWindow();
    return this.installTrained(set, forest, threshold, performance.now() - started);
  }

  /** The rows a training runs on; throws GATE_NOT_READY when the window holds too few. */
  private trainingSet(): TrainingSet {
    const d = FEATURE_COUNT;
    let windowRows = 0;
    for (const r of this.reservoirs) windowRows += r.size;
    const fpRows = this.feedbackState.falsePositiveRows();
    const nFp = fpRows.length / d;
    const psi = Math.min(this.sampleSize, windowRows);
    const wanted = Math.ceil((this.falsePositiveWeight * windowRows) / Math.max(1, psi));
    const reps =
      nFp === 0
        ? 0
        : Math.max(1, Math.min(wanted, Math.floor((MAX_FALSE_POSITIVE_SHARE * windowRows) / nFp)));
    const nRef = Math.floor(this.referenceFraction * windowRows);
    const data = new Float64Array((windowRows + nFp * reps + nRef) * d);
    let n = 0;
    let dropped = 0;
    for (const r of this.reservoirs) {
      const rows = r.rows();
      for (let i = 0; i < r.size; i++) {
        if (this.feedbackState.isAttack(rows, i * d)) {
          dropped++;
          continue;
        }
        data.set(rows.subarray(i * d, i * d + d), n * d);
        n++;
      }
    }
    for (let k = 0; k < reps; k++) {
      data.set(fpRows, n * d);
      n += nFp;
    }
    if (n - nFp * reps < MIN_TRAINING_ROWS) {
      throw new FalconerError(
        'GATE_NOT_READY',
        `too few events in the training window to train a model (need ${MIN_TRAINING_ROWS})`,
        {
          rows: n - nFp * reps,
        },
      );
    }
    const trainingNumber = this.trainings + 1;
    if (nRef > 0) {
      addReferenceRows(data, n, nRef, d, createRng(deriveSeed(this.seed, 0x4ef0000 + trainingNumber)));
      n += nRef;
    }
    return {
      training: data.subarray(0, n * d),
      n,
      nRef,
      falsePositiveRows: nFp * reps,
      attackRowsDropped: dropped,
      trainingNumber,
    };
  }

  private forestParams(set: TrainingSet) {
    return {
      trees: this.trees,
      sampleSize: this.sampleSize,
      seed: deriveSeed(this.seed, set.trainingNumber),
    };
  }

  /** Slides the window: the oldest period's reservoir starts over as the active one. */
  private slideWindow(): void {
    this.active = (this.active + 1) % this.reservoirs.length;
    this.reservoirs[this.active] = this.newReservoir();
    this.sinceTrain = 0;
    this.lastTrainMs = this.clockMs;
  }

  /** Takes the training rows and slides the window now; the steps that follow build the model. */
  private beginRetrain(): void {
    const started = performance.now();
    const set = this.trainingSet();
    const fitter = IsolationForest.fitter(set.training, set.n, FEATURE_COUNT, this.forestParams(set));
    this.slideWindow();
    const host: RetrainJobHost = {
      recent: this.recent,
      dimensions: FEATURE_COUNT,
      calibrateOnTraining: this.fixedThreshold === undefined && this.recent.size < MIN_CALIBRATION_ROWS,
      threshold: (rows, scores, onTraining) =>
        this.fixedThreshold ??
        quantileThreshold(onTraining ? scores : this.withoutAttacks(rows, scores), this.forwardRate),
      install: (trained, forest, threshold, cpuMs) => {
        this.job = undefined;
        this.installTrained(trained, forest, threshold, cpuMs);
      },
    };
    this.job = new RetrainJob(host, set, fitter, performance.now() - started);
    this.jobCredit = 0;
  }

  /** One retraining step per RETRAIN_STEP_EVENTS events seen. */
  private advanceRetrain(events: number): void {
    this.jobCredit += events;
    while (this.job !== undefined && this.jobCredit >= RETRAIN_STEP_EVENTS) {
      this.jobCredit -= RETRAIN_STEP_EVENTS;
      try {
        this.job.step();
      } catch (err) {
        // Like a failed inline retrain: the current model keeps serving.
        this.job = undefined;
        this.lastRetrainError = describeError(err);
      }
    }
  }

  /** Serves a freshly trained forest; `cpuMs` is the time the training took on this thread. */
  private installTrained(
    set: TrainingSet,
    forest: IsolationForest,
    threshold: number,
    cpuMs: number,
  ): RetrainResult {
    const model: GateModel = {
      forest,
      modelVersion: `gate-${this.seed}-${set.trainingNumber}`,
      createdAt: new Date().toISOString(),
      features: FEATURE_SCHEMA,
      threshold: {
        score: threshold,
        ...(this.fixedThreshold === undefined ? { forwardRate: this.forwardRate } : {}),
      },
      nTrain: set.n,
    };
    this.install(model, threshold);
    this.trainings = set.trainingNumber;
    this.trainMsTotal += cpuMs;
    this.metrics?.retrained(cpuMs / 1000, set.n);
    return {
      modelVersion: model.modelVersion,
      nTrain: set.n,
      threshold,
      durationMs: cpuMs,
      falsePositiveRows: set.falsePositiveRows,
      attackRowsDropped: set.attackRowsDropped,
    };
  }

  /**
   * Serves `model` from now on. It is validated first (feature schema and
   * dimensions); on any error the current model keeps serving.
   */
  loadModel(model: GateModel): void {
    const names = model.features.names;
    const expected = FEATURE_SCHEMA.names;
    if (
      model.features.schemaVersion !== FEATURE_SCHEMA.schemaVersion ||
      names.length !== expected.length ||
      names.some((n, i) => n !== expected[i])
    ) {
      throw new FalconerError('MODEL_SCHEMA_MISMATCH', 'model was trained on another feature schema', {
        expected: FEATURE_SCHEMA.schemaVersion,
        found: model.features.schemaVersion,
      });
    }
    if (model.forest.dimensions !== FEATURE_COUNT) {
      throw new FalconerError('MODEL_INVALID', 'model dimensions differ from the feature schema', {
        expected: FEATURE_COUNT,
        found: model.forest.dimensions,
      });
    }
    let threshold = this.fixedThreshold ?? model.threshold?.score;
    if (threshold === undefined) {
      if (this.recent.size < MIN_CALIBRATION_ROWS) {
        throw new FalconerError(
          'GATE_NOT_READY',
          'model has no threshold and too few recent events to calibrate one',
          {
            recent: this.recent.size,
          },
        );
      }
      threshold = this.calibrate(model.forest, new Float64Array(0), 0);
    } else {
      this.rescoreRecent(model.forest);
    }
    this.job = undefined; // a loaded model supersedes a retraining in progress
    this.install(model, threshold);
    this.sinceTrain = 0;
    this.lastTrainMs = this.clockMs;
  }

  /** Loads and validates a model file, then serves it; a bad file throws and the current model keeps serving. */
  async loadModelFile(path: string): Promise<GateModel> {
    const model = await loadModel(path, FEATURE_SCHEMA);
    this.loadModel(model);
    return model;
  }

  /** Writes the serving model (with its threshold) atomically. */
  async saveModelFile(path: string): Promise<void> {
    const serving = this.serving;
    if (serving === undefined)
      throw new FalconerError('GATE_NOT_READY', 'no model to save yet (still warming up)');
    await saveModel(path, {
      ...serving.model,
      threshold: { ...serving.model.threshold, score: serving.threshold },
    });
  }

  /**
   * An analyst's verdict on a forwarded event. A false positive becomes normal
   * training data (mixed into every next training sample); a true positive is
   * kept out of training. Takes effect at the next (re)training.
   */
  feedback(input: FeedbackInput): FeedbackResult {
    if (input.verdict !== 'false_positive' && input.verdict !== 'true_positive') {
      throw new FalconerError('USAGE', 'verdict must be false_positive or true_positive', {
        verdict: String(input.verdict),
      });
    }
    const vector = this.memory.get(input.eventId);
    if (vector === undefined) {
      this.metrics?.feedback(input.verdict, false);
      return { applied: false, reason: 'unknown-event' };
    }
    if (input.verdict === 'false_positive') this.feedbackState.addFalsePositive(vector);
    else this.feedbackState.addAttack(vector);
    this.metrics?.feedback(input.verdict, true);
    return { applied: true };
  }

  /** A forwarded event: remembered for feedback, grouped into a signal, counted. */
  private forward(
    ev: NormalizedEvent,
    x: Float64Array,
    score: number,
    reason: DecisionReason,
    decision: Decision,
  ): void {
    this.forwarded++;
    this.memory.remember(ev.id, x);
    const update = this.signals.add(ev, score);
    decision.signal = update.signal;
    decision.signalUpdate = update.kind;
    if (this.metrics !== undefined) {
      this.metrics.eventForwarded(reason as ForwardReason);
      if (update.kind === 'opened') this.metrics.signalOpened();
    }
    this.onSignal?.(update);
  }

  private install(model: GateModel, threshold: number): void {
    const sequence = ++this.sequence;
    this.serving = { model, threshold, sequence }; // the one reference swap
    this.metrics?.modelServing(model.modelVersion, sequence, threshold);
  }

  /** Whether a scheduled retrain is due now, at event time t. */
  private retrainIsDue(t: number): boolean {
    if (this.job !== undefined) return false;
    if (this.serving === undefined) {
      if (this.seen < this.warmupEvents) return false;
      let rows = 0;
      for (const r of this.reservoirs) rows += r.size;
      return rows >= MIN_TRAINING_ROWS;
    }
    return this.sinceTrain >= this.retrainEveryEvents || t - this.lastTrainMs >= this.retrainEveryMs;
  }

  private retrainIfDue(t: number): void {
    if (!this.retrainIsDue(t)) return;
    try {
      if (this.retrainMode === 'incremental') this.beginRetrain();
      else this.retrain();
      this.lastRetrainError = undefined;
    } catch (err) {
      // A failed scheduled retrain never stops the stream: the current model keeps serving,
      // and the next attempt waits for a full period.
      this.lastRetrainError = describeError(err);
      this.sinceTrain = 0;
      this.lastTrainMs = this.clockMs;
    }
  }

  /**
   * Threshold for a new `forest`: the (1 − forwardRate) quantile of its scores
   * on the recent events (on the training rows while recent events are few).
   */
  private calibrate(forest: IsolationForest, training: Float64Array, nTraining: number): number {
    // One scoring pass over the recent window serves both: the new model's threshold and its recent scores.
    const recentScores = this.rescoreRecent(forest);
    if (this.recent.size < MIN_CALIBRATION_ROWS && nTraining > 0) {
      return quantileThreshold(forest.scoreBatch(training, nTraining), this.forwardRate);
    }
    if (recentScores === undefined)
      throw new FalconerError('GATE_NOT_READY', 'no recent events to calibrate a threshold on');
    return quantileThreshold(this.withoutAttacks(this.recent.rows(), recentScores), this.forwardRate);
  }

  /** Gives the recent window the new model's scores, so later recalibrations rank events by the serving model. */
  private rescoreRecent(forest: IsolationForest): Float64Array | undefined {
    if (this.recent.size === 0) return undefined;
    // With the memo: recent events repeat their bins, and the stream scored next repeats them too.
    const scores = forest.scoreBatch(this.recent.rows(), this.recent.size, undefined, true);
    this.recent.setScores(scores);
    return scores;
  }

  /** Between retrains: the threshold follows the serving model's recent scores (drift moves them). */
  private recalibrate(): void {
    this.sinceCalibration = 0;
    const serving = this.serving;
    if (serving === undefined || this.fixedThreshold !== undefined || this.recent.size < MIN_CALIBRATION_ROWS)
      return;
    const known = this.recent.knownScores();
    if (known.length < MIN_CALIBRATION_ROWS) return;
    const scores = known.length === this.recent.size ? this.withoutAttacks(this.recent.rows(), known) : known;
    const threshold = quantileThreshold(scores, this.forwardRate);
    if (threshold === serving.threshold) return;
    this.serving = { model: serving.model, threshold, sequence: serving.sequence }; // one reference swap
    this.metrics?.thresholdChanged(threshold);
  }

  /** Scores of rows that are not confirmed attacks (all of them when no attack is remembered). */
  private withoutAttacks(rows: Float64Array, scores: Float64Array): Float64Array {
    if (this.feedbackState.attacksRemembered === 0) return scores;
    const d = FEATURE_COUNT;
    const kept = new Float64Array(scores.length);
    let m = 0;
    for (let i = 0; i < scores.length; i++)
      if (!this.feedbackState.isAttack(rows, i * d)) kept[m++] = scores[i]!;
    return kept.subarray(0, m);
  }

  private newReservoir(): Reservoir {
    return new Reservoir(
      this.reservoirCapacity,
      FEATURE_COUNT,
      deriveSeed(this.seed, 0x7e5e + this.reservoirGeneration++),
    );
  }
}

/**
 * Appends `count` rows drawn uniformly, per feature, over [min, max + (max − min) / 2]
 * of the first `n` rows. Isolation Forest cannot extrapolate: a test point beyond
 * the training range follows the same path as the most extreme training points.
 * Sparse reference rows put splits into the empty space above the data, so a
 * point out there (never-seen behaviour) is isolated quickly, while the
 * reference rows are too sparse to change the dense regions.
 */
function addReferenceRows(data: Float64Array, n: number, count: number, d: number, rng: Rng): void {
  const lo = new Float64Array(d).fill(Infinity);
  const hi = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]!;
      if (v < lo[j]!) lo[j] = v;
      if (v > hi[j]!) hi[j] = v;
    }
  }
  for (let j = 0; j < d; j++) hi[j] = hi[j]! + (hi[j]! - lo[j]!) / 2;
  for (let i = n; i < n + count; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = lo[j]! + rng.next() * (hi[j]! - lo[j]!);
  }
}
