/**
 * A fixed-size uniform sample of an unbounded stream of rows (Vitter's
 * algorithm R), so the gate can train on "the recent past" with bounded
 * memory whatever the event rate.
 */
import { FalconerError } from '../errors.ts';
import { IsolationForest, DEFAULT_PARAMS, type IsolationForestParams } from './iforest.ts';
import { createRng, deriveSeed, type Rng } from './random.ts';

export class Reservoir {
  readonly capacity: number;
  readonly dimensions: number;
  private readonly buffer: Float64Array;
  private rng: Rng;
  private readonly seed: number;
  private count = 0;
  private total = 0;

  constructor(capacity: number, d: number, seed: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new FalconerError('USAGE', 'reservoir capacity must be a positive integer', { capacity });
    }
    if (!Number.isInteger(d) || d < 1) {
      throw new FalconerError('USAGE', 'reservoir dimensions must be a positive integer', { d });
    }
    this.capacity = capacity;
    this.dimensions = d;
    this.buffer = new Float64Array(capacity * d);
    this.seed = seed;
    this.rng = createRng(seed);
  }

  /** Offers one row (read from offset..offset+d); rejects rows with non-finite values. */
  add(row: ArrayLike<number>, offset = 0): void {
    const d = this.dimensions;
    if (!Number.isInteger(offset) || offset < 0 || row.length < offset + d) {
      throw new FalconerError('USAGE', 'row is shorter than the reservoir dimensions', {
        length: row.length,
        offset,
        dimensions: d,
      });
    }
    // x * 0 is NaN exactly when x is not finite: one sum checks the row, the loop below names the column.
    let zero = 0;
    for (let j = 0; j < d; j++) zero += row[offset + j]! * 0;
    if (zero !== 0) {
      for (let j = 0; j < d; j++) {
        if (!Number.isFinite(row[offset + j]!)) {
          throw new FalconerError('TRAIN_DATA_INVALID', 'row has a non-finite value', { column: j });
        }
      }
    }
    this.total++;
    let slot: number;
    if (this.count < this.capacity) {
      slot = this.count++;
    } else {
      // Keep the new row with probability capacity / seen, in a uniform slot.
      slot = this.rng.int(this.total);
      if (slot >= this.capacity) return;
    }
    const base = slot * d;
    for (let j = 0; j < d; j++) this.buffer[base + j] = row[offset + j]!;
  }

  /** Rows currently held (<= capacity). */
  get size(): number {
    return this.count;
  }

  /** Rows offered so far (accepted or not). */
  get seen(): number {
    return this.total;
  }

  /** A row-major copy of the held rows (size * d values). */
  rows(): Float64Array {
    return this.buffer.slice(0, this.count * this.dimensions);
  }

  /** Forgets all rows and restarts the random sequence from the seed. */
  clear(): void {
    this.count = 0;
    this.total = 0;
    this.rng = createRng(this.seed);
  }
}

export interface StreamFitParams extends Partial<IsolationForestParams> {
  /**
   * Rows kept from the stream (default max(16 ψ, 4096)). Larger than ψ so
   * that each tree draws a different subsample, as in the batch algorithm.
   */
  reservoirSize?: number;
}

export interface StreamFit {
  forest: IsolationForest;
  /** Rows offered by the stream. */
  seen: number;
  /** Rows the forest was trained on (the reservoir's content). */
  sampled: number;
}

/** Trains a forest on a uniform sample of a stream of rows of d values. */
export function fitFromStream(
  rows: Iterable<ArrayLike<number>>,
  d: number,
  params: StreamFitParams = {},
): StreamFit {
  const seed = params.seed ?? DEFAULT_PARAMS.seed;
  const sampleSize = params.sampleSize ?? DEFAULT_PARAMS.sampleSize;
  const capacity = params.reservoirSize ?? Math.max(16 * sampleSize, 4096);
  // The reservoir gets its own stream so it does not replay the forest's draws.
  const reservoir = new Reservoir(capacity, d, deriveSeed(seed, 0x5e5e));
  for (const row of rows) reservoir.add(row);
  const { reservoirSize: _ignored, ...forestParams } = params;
  const forest = IsolationForest.fit(reservoir.rows(), reservoir.size, d, { ...forestParams, seed });
  return { forest, seen: reservoir.seen, sampled: reservoir.size };
}
