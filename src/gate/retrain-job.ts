/**
 * A scheduled retraining spread over the events that follow it, so that the
 * gate never stops scoring for the whole of one (100 trees plus re-scoring the
 * 20,000-event calibration window: tens of ms on a quiet core, several hundred
 * on a busy one — a stall every detect request then waits behind). The gate
 * takes the training rows and the calibration rows when the retrain is due,
 * then each step grows a few trees or scores a slice of the calibration rows; the last step swaps the new
 * model in. Until then the previous model serves. Same rows and seed ⇒ the same
 * forest and threshold as an inline retrain at the moment the rows were taken
 * (bit for bit); only the events scored meanwhile see the previous model.
 */
import type { ForestFitter, IsolationForest } from './iforest.ts';
import type { RecentWindow } from './threshold.ts';

/** The rows one training runs on (window minus attacks, false positives, reference rows). */
export interface TrainingSet {
  readonly training: Float64Array;
  readonly n: number;
  /** Reference rows at the end of `training`: never calibrated on. */
  readonly nRef: number;
  readonly falsePositiveRows: number;
  readonly attackRowsDropped: number;
  readonly trainingNumber: number;
}

/** Work per step: trees grown, or calibration rows scored. */
export const RETRAIN_STEP = { trees: 4, rows: 1024 } as const;

/** What the job needs from its gate. */
export interface RetrainJobHost {
  readonly recent: RecentWindow;
  readonly dimensions: number;
  /** Calibrate on the training rows instead of the recent window (too few recent events). */
  readonly calibrateOnTraining: boolean;
  /** The threshold from the new forest's scores of `rows` (recent rows, or training rows). */
  threshold(rows: Float64Array, scores: Float64Array, onTraining: boolean): number;
  /** Serves the trained forest; `cpuMs` is the time the steps took. */
  install(set: TrainingSet, forest: IsolationForest, threshold: number, cpuMs: number): void;
}

export class RetrainJob {
  private forest: IsolationForest | undefined;
  /** Calibration rows (a copy: the recent window keeps moving) and their new scores. */
  private rows: Float64Array | undefined;
  private scores: Float64Array | undefined;
  private rowCount = 0;
  private scored = 0;
  private pushesAtCopy = 0;
  private nextSlotAtCopy = 0;
  private cpuMs = 0;

  constructor(
    private readonly host: RetrainJobHost,
    readonly set: TrainingSet,
    private readonly fitter: ForestFitter,
    setupMs: number,
  ) {
    // The calibration rows as they are now, when an inline retrain would calibrate on them.
    const started = performance.now();
    this.copyCalibrationRows();
    this.cpuMs = setupMs + (performance.now() - started);
  }

  /** One step of work; true once the new model serves. */
  step(): boolean {
    const started = performance.now();
    const done = this.work();
    this.cpuMs += performance.now() - started;
    if (done) this.host.install(this.set, this.forest!, this.finish(), this.cpuMs);
    return done;
  }

  private work(): boolean {
    if (this.forest === undefined) {
      if (this.fitter.grow(RETRAIN_STEP.trees)) this.forest = this.fitter.result();
      return false;
    }
    const d = this.host.dimensions;
    const end = Math.min(this.rowCount, this.scored + RETRAIN_STEP.rows);
    if (end > this.scored) {
      this.forest.scoreBatch(
        this.rows!.subarray(this.scored * d, end * d),
        end - this.scored,
        this.scores!.subarray(this.scored, end),
        true,
      );
      this.scored = end;
    }
    return this.scored === this.rowCount;
  }

  private copyCalibrationRows(): void {
    const { recent } = this.host;
    if (this.host.calibrateOnTraining) {
      this.rowCount = this.set.n - this.set.nRef;
      this.rows = this.set.training;
    } else {
      this.rowCount = recent.size;
      this.rows = recent.rows().slice();
      this.pushesAtCopy = recent.pushCount;
      this.nextSlotAtCopy = recent.nextSlot;
    }
    this.scores = new Float64Array(this.rowCount);
  }

  /** The threshold, and the recent window re-scored by the new forest (as an inline retrain leaves it). */
  private finish(): number {
    const started = performance.now();
    const forest = this.forest!;
    const { recent } = this.host;
    const onTraining = this.host.calibrateOnTraining;
    const threshold = this.host.threshold(
      this.rows!.subarray(0, this.rowCount * this.host.dimensions),
      this.scores!,
      onTraining,
    );
    const fresh = recent.pushCount - this.pushesAtCopy;
    if (onTraining || fresh >= recent.capacity) {
      // Calibrated on training rows, or the window turned over since the copy: score it whole.
      recent.setScores(forest.scoreBatch(recent.rows(), recent.size, undefined, true));
    } else {
      // Copied rows sit in their slots and keep their new scores; the slots pushed since the copy
      // (one run in ring order, split in two where it wraps) are scored now.
      const all = new Float64Array(recent.size);
      all.set(this.scores!.subarray(0, Math.min(this.rowCount, recent.size)));
      const d = this.host.dimensions;
      const rows = recent.rows();
      const first = Math.min(fresh, recent.capacity - this.nextSlotAtCopy);
      const runs: [number, number][] = [
        [this.nextSlotAtCopy, this.nextSlotAtCopy + first],
        [0, fresh - first],
      ];
      for (const [from, to] of runs) {
        if (to > from)
          forest.scoreBatch(rows.subarray(from * d, to * d), to - from, all.subarray(from, to), true);
      }
      recent.setScores(all);
    }
    this.cpuMs += performance.now() - started;
    return threshold;
  }
}
