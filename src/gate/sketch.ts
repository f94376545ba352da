/**
 * A count-min sketch whose counts decay exponentially with event time, plus a
 * few exact decayed totals, all sharing one clock. Memory is fixed at
 * construction (depth × width × 8 bytes) whatever the number of distinct keys:
 * an attacker spraying a million unique process names only raises every
 * counter a little (and that mass decays away), never the memory.
 *
 * Decay without touching every counter: an event at time t adds the weight
 * 2^((t − t0)/halfLife) instead of 1, so a stored value divided by the weight
 * of "now" is the decayed count. When the weights grow past 2^RESCALE_EXPONENT
 * everything is multiplied down once and t0 moves to now (amortized O(1)).
 *
 * Updates are conservative (a cell only grows to estimate + weight), which
 * keeps over-estimates from colliding keys small.
 *
 * Layout: a key's `depth` cells are distinct slots of one 8-cell block (one
 * cache line) chosen by the hash, rather than one cell in each of `depth`
 * separate rows: one memory fetch per key instead of `depth`, for a slightly
 * higher collision rate (two keys must share a block, then overlap in every
 * slot). With the default 2^16 × 4 cells (32,768 blocks) and ten thousand
 * live keys a never-seen key reads as seen well under 1 % of the time.
 */
import { FalconerError } from '../errors.ts';
import { mix32 } from './hash.ts';

export interface DecayedSketchOptions {
  /** Cells per row; a power of two (the table holds width × depth cells). */
  width: number;
  /** Cells per key: 1, 2, 4 or 8, all in one cache-line block. */
  depth: number;
  /** Half-life of a count in event-time milliseconds. */
  halfLifeMs: number;
  /** Number of exact decayed totals kept beside the sketch. */
  totals: number;
}

/** Cells per block: 8 doubles = one 64-byte cache line. */
const BLOCK = 8;

/** 2^24 cells (128 MiB): beyond that block and slot bits of the 32-bit hash would overlap. */
const MAX_CELLS = 1 << 24;

/** Past this weight exponent the stored values are rescaled (2^40 keeps 13 digits of headroom). */
const RESCALE_EXPONENT = 40;

export class DecayedCountMinSketch {
  readonly width: number;
  readonly depth: number;
  readonly halfLifeMs: number;
  private readonly blockMask: number;
  private readonly cells: Float64Array;
  private readonly totalsScaled: Float64Array;
  /** Epoch of the weights: an event at t0 weighs 1. */
  private t0 = Number.NaN;
  /** The sketch's clock: the latest event time seen. */
  private nowMs = Number.NaN;
  /** 1 / weight(now): turns stored values into decayed counts at now. */
  private invNowWeight = 1;
  private nowWeight = 1;

  constructor(opts: DecayedSketchOptions) {
    const { width, depth, halfLifeMs, totals } = opts;
    if (!Number.isInteger(width) || width < 2 || (width & (width - 1)) !== 0 || width > MAX_CELLS) {
      throw new FalconerError('CONFIG_INVALID', 'sketch width must be a power of two between 2 and 2^24', {
        width,
      });
    }
    if (depth !== 1 && depth !== 2 && depth !== 4 && depth !== 8) {
      throw new FalconerError('CONFIG_INVALID', 'sketch depth must be 1, 2, 4 or 8', { depth });
    }
    if (width * depth < BLOCK || width * depth > MAX_CELLS) {
      // The block index uses the hash's low 21 bits at most, the slots its top 8.
      throw new FalconerError(
        'CONFIG_INVALID',
        `sketch width × depth must be between ${BLOCK} and ${MAX_CELLS}`,
        { width, depth },
      );
    }
    if (!(halfLifeMs > 0) || !Number.isFinite(halfLifeMs)) {
      throw new FalconerError('CONFIG_INVALID', 'half-life must be a positive number of milliseconds', {
        halfLifeMs,
      });
    }
    this.width = width;
    this.depth = depth;
    this.halfLifeMs = halfLifeMs;
    this.blockMask = (width * depth) / BLOCK - 1;
    this.cells = new Float64Array(width * depth);
    this.totalsScaled = new Float64Array(Math.max(0, totals | 0));
  }

  /** Fixed memory held by the counters, in bytes. */
  get bytes(): number {
    return this.cells.byteLength + this.totalsScaled.byteLength;
  }

  get clockMs(): number {
    return this.nowMs;
  }

  /**
   * Moves the clock to `timeMs` if it is later, and returns the weight an
   * event at `timeMs` adds (older, out-of-order events add less).
   */
  advance(timeMs: number): number {
    if (Number.isNaN(this.t0)) {
      this.t0 = timeMs;
      this.nowMs = timeMs;
      this.invNowWeight = 1;
      this.nowWeight = 1;
      return 1;
    }
    if (timeMs > this.nowMs) {
      this.nowMs = timeMs;
      if ((timeMs - this.t0) / this.halfLifeMs > RESCALE_EXPONENT) this.rescale();
      this.nowWeight = Math.pow(2, (this.nowMs - this.t0) / this.halfLifeMs);
      this.invNowWeight = 1 / this.nowWeight;
      return this.nowWeight;
    }
    return timeMs === this.nowMs ? this.nowWeight : Math.pow(2, (timeMs - this.t0) / this.halfLifeMs);
  }

  /** Decayed count of a key at the clock (an over-estimate only through collisions). */
  count(key: number): number {
    return this.scaledEstimate(key) * this.invNowWeight;
  }

  /** The count of a key as stored (scaled by the weight of now); pass it to add() to skip a second read. */
  scaledCount(key: number): number {
    return this.scaledEstimate(key);
  }

  /** Turns a scaledCount() into a decayed count at the clock. */
  get scale(): number {
    return this.invNowWeight;
  }

  /**
   * Adds `weight` (from advance) to a key. `scaled` is the key's scaledCount()
   * if already read since the last advance(); conservative update needs it.
   */
  add(key: number, weight: number, scaled: number = this.scaledEstimate(key)): void {
    this.addMixed(mix32(key), weight, scaled);
  }

  /**
   * scaledCount() of a key given as `mix32(key)`: a caller that reads a key and then adds to it
   * mixes the key once and passes the result to both (same cells, same values).
   */
  scaledCountMixed(h: number): number {
    const block = (h & this.blockMask) << 3;
    let slot = (h >>> 24) & 7;
    const step = ((h >>> 27) & 3) * 2 + 1;
    const cells = this.cells;
    if (this.depth === 4) {
      // The default depth, unrolled (a key's cells are distinct slots of its block).
      const a = cells[block + slot]!;
      const b = cells[block + ((slot + step) & 7)]!;
      const c = cells[block + ((slot + 2 * step) & 7)]!;
      const d = cells[block + ((slot + 3 * step) & 7)]!;
      const ab = b < a ? b : a;
      const cd = d < c ? d : c;
      return cd < ab ? cd : ab;
    }
    let min = Infinity;
    for (let i = 0; i < this.depth; i++) {
      const v = cells[block + slot]!;
      if (v < min) min = v;
      slot = (slot + step) & 7;
    }
    return min;
  }

  /** The first cell of a mixed key's block: a cheap read that brings the key's cache line in. */
  peekMixed(h: number): number {
    return this.cells[(h & this.blockMask) << 3]!;
  }

  /** add() of a key given as `mix32(key)`, with its scaledCountMixed() since the last advance(). */
  addMixed(h: number, weight: number, scaled: number): void {
    const target = scaled + weight;
    const block = (h & this.blockMask) << 3;
    let slot = (h >>> 24) & 7;
    const step = ((h >>> 27) & 3) * 2 + 1;
    const cells = this.cells;
    if (this.depth === 4) {
      const i0 = block + slot;
      const i1 = block + ((slot + step) & 7);
      const i2 = block + ((slot + 2 * step) & 7);
      const i3 = block + ((slot + 3 * step) & 7);
      if (cells[i0]! < target) cells[i0] = target;
      if (cells[i1]! < target) cells[i1] = target;
      if (cells[i2]! < target) cells[i2] = target;
      if (cells[i3]! < target) cells[i3] = target;
      return;
    }
    for (let i = 0; i < this.depth; i++) {
      const idx = block + slot;
      if (cells[idx]! < target) cells[idx] = target;
      slot = (slot + step) & 7;
    }
  }

  total(i: number): number {
    return (this.totalsScaled[i] ?? 0) * this.invNowWeight;
  }

  addTotal(i: number, weight: number): void {
    this.totalsScaled[i] = (this.totalsScaled[i] ?? 0) + weight;
  }

  clear(): void {
    this.cells.fill(0);
    this.totalsScaled.fill(0);
    this.t0 = Number.NaN;
    this.nowMs = Number.NaN;
    this.invNowWeight = 1;
    this.nowWeight = 1;
  }

  private scaledEstimate(key: number): number {
    return this.scaledCountMixed(mix32(key));
  }

  private rescale(): void {
    const factor = Math.pow(2, -(this.nowMs - this.t0) / this.halfLifeMs);
    const cells = this.cells;
    for (let i = 0; i < cells.length; i++) cells[i] = cells[i]! * factor;
    const totals = this.totalsScaled;
    for (let i = 0; i < totals.length; i++) totals[i] = totals[i]! * factor;
    this.t0 = this.nowMs;
  }
}
