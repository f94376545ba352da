/**
 * Threshold calibration: the score above which the target fraction of recent
 * events falls. The gate keeps the last N feature vectors (a ring, bounded) and
 * re-scores them with each new model, so the threshold always belongs to the
 * model that will use it.
 */
import { FalconerError } from '../errors.ts';

/** Forward rates outside (0, 0.5] are almost certainly a typo (0.5 = half of all events). */
export function checkForwardRate(rate: number): number {
  if (!(rate > 0 && rate <= 0.5)) {
    throw new FalconerError('CONFIG_INVALID', 'forward rate must be in (0, 0.5]', { forwardRate: rate });
  }
  return rate;
}

/**
 * The score s such that about `forwardRate` of `scores` (at least one) are >= s.
 * When the cut falls inside a run of equal scores, s moves above the run, so
 * that ties never push the rate over the target (it may then fall below it).
 * `scores` is not modified.
 */
export function quantileThreshold(scores: Float64Array, forwardRate: number): number {
  checkForwardRate(forwardRate);
  const n = scores.length;
  if (n === 0) throw new FalconerError('GATE_NOT_READY', 'no scores to calibrate a threshold on');
  const wanted = Math.max(1, Math.round(forwardRate * n));
  // The wanted-th largest score: with a small heap when few are wanted (the usual case: one pass,
  // no copy of the scores), else by quickselect on a copy. Both give the same value.
  const s =
    (wanted <= MAX_HEAP_SELECT ? largestKth(scores, wanted) : undefined) ??
    selectKth(scores.slice(), n - wanted);
  // O(n) tie check instead of a sort: how many are >= s, and the next distinct score above it.
  const atOrAbove = countAtOrAbove(scores, s);
  const nextAbove = tieNextAbove;
  if (atOrAbove <= wanted) return s;
  if (nextAbove !== Infinity) return nextAbove;
  // Every top score is tied: forward nothing rather than all of them.
  return Math.min(1, s + Math.max(Number.EPSILON, Math.abs(s) * Number.EPSILON * 4));
}

/** The smallest score above the last countAtOrAbove() threshold (Infinity when none). */
let tieNextAbove = Infinity;

/**
 * How many scores are >= s; leaves the next distinct score above s in tieNextAbove. A loop of its
 * own: the caller runs once per recalibration, so V8 compiles it on stack mid-loop, and the code
 * after an inlined loop (never run before) would deoptimize it on every call.
 */
function countAtOrAbove(scores: Float64Array, s: number): number {
  let atOrAbove = 0;
  let nextAbove = Infinity;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v >= s) {
      atOrAbove++;
      if (v > s && v < nextAbove) nextAbove = v;
    }
  }
  tieNextAbove = nextAbove;
  return atOrAbove;
}

/** Up to this many top scores, quantileThreshold selects with a heap rather than by quickselect. */
const MAX_HEAP_SELECT = 4096;
const heap = new Float64Array(MAX_HEAP_SELECT);

/**
 * The k-th largest value (1-based, k <= a.length, k <= MAX_HEAP_SELECT) of `a` in one pass with a
 * min-heap of the k largest so far; undefined when `a` holds a NaN (left to selectKth).
 */
export function largestKth(a: Float64Array, k: number): number | undefined {
  const n = a.length;
  for (let i = 0; i < k; i++) {
    const v = a[i]!;
    if (v !== v) return undefined;
    // Sift up.
    let c = i;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heap[p]! <= v) break;
      heap[c] = heap[p]!;
      c = p;
    }
    heap[c] = v;
  }
  for (let i = k; i < n; i++) {
    const v = a[i]!;
    if (v <= heap[0]!) continue;
    if (v !== v) return undefined;
    // Replace the minimum and sift down.
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && heap[r]! < heap[l]! ? r : l;
      if (heap[m]! >= v) break;
      heap[c] = heap[m]!;
      c = m;
    }
    heap[c] = v;
  }
  // A NaN compares false with everything, so `v <= heap[0]` let any NaN through to the check above.
  return heap[0]!;
}

/** The k-th smallest value (0-based) of `a`, which is reordered (Hoare quickselect, median-of-three pivots). */
export function selectKth(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    // Median of three as pivot: robust to sorted and reverse-sorted input.
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/**
 * The last `capacity` events' feature vectors and their scores under the
 * serving model, in lockstep: a retrain re-scores every vector with the new
 * model, then each new event's score overwrites its slot, so the window always
 * holds scores of one model, over the most recent events.
 */
export class RecentWindow {
  readonly capacity: number;
  readonly dimensions: number;
  private readonly vectors: Float64Array;
  private readonly scoreValues: Float64Array;
  private scratch: Float64Array | undefined;
  /** How many of the held scores are unknown (NaN). */
  private unknown = 0;
  private next = 0;
  private count = 0;
  private lastSlot = -1;
  private pushes = 0;

  constructor(capacity: number, d: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new FalconerError('CONFIG_INVALID', 'calibration window must be a positive integer', {
        capacity,
      });
    }
    this.capacity = capacity;
    this.dimensions = d;
    this.vectors = new Float64Array(capacity * d);
    this.scoreValues = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Vectors pushed so far, ever. */
  get pushCount(): number {
    return this.pushes;
  }

  /** The slot the next push writes (slots are reused in ring order). */
  get nextSlot(): number {
    return this.next;
  }

  /** Adds a vector (its score unknown until setLastScore, setScoreAt or rescore); returns its slot. */
  push(row: ArrayLike<number>): number {
    const d = this.dimensions;
    const slot = this.next;
    const base = slot * d;
    for (let j = 0; j < d; j++) this.vectors[base + j] = row[j]!;
    // The slot's score becomes unknown: count it unless it already was (an unfilled or unknown slot).
    if (slot >= this.count || this.scoreValues[slot] === this.scoreValues[slot]) this.unknown++;
    this.scoreValues[slot] = Number.NaN;
    this.lastSlot = slot;
    this.pushes++;
    this.next = (slot + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    return slot;
  }

  /** Records the serving model's score of the vector pushed last. */
  setLastScore(score: number): void {
    if (this.lastSlot >= 0) this.setScoreAt(this.lastSlot, score);
  }

  /**
   * Records the serving model's score of the vector pushed into `slot` (as returned by push). Batches
   * push first and record scores after, in push order, so a slot reused within a batch ends up with
   * the score of its latest vector.
   */
  setScoreAt(slot: number, score: number): void {
    const old = this.scoreValues[slot]!;
    this.unknown += (score !== score ? 1 : 0) - (old !== old ? 1 : 0);
    this.scoreValues[slot] = score;
  }

  /** Held vectors, row-major (order is not meaningful); a view, valid until the next push. */
  rows(): Float64Array {
    return this.vectors.subarray(0, this.count * this.dimensions);
  }

  /** Replaces every held score (e.g. with a new model's scores of rows()). */
  setScores(scores: Float64Array): void {
    this.scoreValues.set(scores.subarray(0, this.count));
    let unknown = 0;
    for (let i = 0; i < this.count; i++) if (this.scoreValues[i] !== this.scoreValues[i]) unknown++;
    this.unknown = unknown;
  }

  /**
   * The held scores that are known (not NaN), as a read-only view valid until the window changes:
   * the scores themselves when all are known (the steady state: no copy), else a scratch buffer
   * valid until the next call (recalibration runs every few hundred events).
   */
  knownScores(): Float64Array {
    if (this.unknown === 0) return this.scoreValues.subarray(0, this.count);
    const out = (this.scratch ??= new Float64Array(this.capacity));
    let m = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.scoreValues[i]!;
      if (v === v) out[m++] = v;
    }
    return out.subarray(0, m);
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
    this.unknown = 0;
    this.lastSlot = -1;
  }
}
