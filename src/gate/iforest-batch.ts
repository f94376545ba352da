/**
 * Fast batch scoring for an Isolation Forest.
 *
 * A plain tree walk spends most of its time on mispredicted branches: at each
 * node a row goes left or right about half the time. This kernel removes the
 * branches and the child-pointer loads:
 *
 *  1. Rank space. Per feature, the distinct split thresholds of the whole
 *     forest are sorted; a value x becomes bin(x) = how many of them are < x,
 *     and a node's threshold t_k becomes its index k in that list. Then
 *     x > t_k  <=>  bin(x) > k, an integer comparison whose outcome is
 *     ((k - bin) >>> 31): pure arithmetic, no branch.
 *  2. Complete trees. Each tree is laid out as a complete binary tree of the
 *     forest's height H in heap order (children of k at 2k+1 and 2k+2);
 *     a leaf above depth H is padded with "always go left" nodes whose
 *     descendants all carry its value. A walk is exactly H steps of
 *     k = 2k + 1 + (goes right), and the node word packs rank << 10 | feature.
 *  3. Rows are binned a block at a time and walked four at a time per tree,
 *     so the CPU overlaps four independent dependency chains. Binning starts
 *     from an equal-width bucket hint per feature and only then searches,
 *     so it costs a few operations per value rather than a full binary search.
 *
 * The result equals the plain walk's exactly (same comparisons, same leaf
 * values, same summation order per row). Forests the packing cannot
 * represent (H > MAX_HEIGHT, d > 1024, too many thresholds, too much
 * padding) return null from build() and are scored by the plain walk instead.
 */

const FEATURE_BITS = 10;
const FEATURE_MASK = (1 << FEATURE_BITS) - 1;
const MAX_FEATURES = 1 << FEATURE_BITS;
/** Largest rank; padding nodes use it so that (rank - bin) never goes negative. */
const MAX_RANK = (1 << (31 - FEATURE_BITS)) - 1;
/** Complete trees of height H hold 2^H leaves; beyond this the padding costs too much memory. */
export const MAX_HEIGHT = 12;
/** +Infinity sentinels after each feature's cuts: binBlock reads up to three cuts past a hint. */
const CUT_PAD = 4;
/** Largest leaf-value index (leaves are Uint16Array indices into the distinct values). */
const MAX_LEAF_INDEX = 0xffff;
/** Bin buffer budget per block (values), so a block of rows stays in L1/L2. */
const BLOCK_VALUES = 8192;
/** Bucket hints per feature: about eight per threshold (fewer thresholds per bucket to search), at most this many. */
const MAX_BUCKETS = 8192;

export interface ForestArrays {
  dimensions: number;
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  /** depth + c(size) for leaves. */
  leafPath: Float64Array;
}

export class BinnedBatchScorer {
  private constructor(
    private readonly d: number,
    private readonly trees: number,
    private readonly height: number,
    /** Sorted distinct thresholds of all features, concatenated. */
    private readonly cuts: Float64Array,
    /**
     * cuts of feature f are cuts[cutStart[f] .. cutEnd[f]), followed by CUT_PAD +Infinity
     * sentinels (so binBlock can read a few cuts past a hint without a bounds test).
     */
    private readonly cutStart: Int32Array,
    private readonly cutEnd: Int32Array,
    /** Per feature: first cut, and buckets per unit of value (0 without cuts). */
    private readonly bucketOrigin: Float64Array,
    private readonly bucketScale: Float64Array,
    /** Per feature f, buckets hint[bucketStart[f] .. bucketStart[f + 1]): lowerBound of each bucket's left edge. */
    private readonly bucketStart: Int32Array,
    private readonly hint: Int32Array,
    /** Per tree, 2^H - 1 internal node words (rank << 10 | feature). */
    private readonly words: Int32Array,
    /**
     * Per tree, 2^H leaves, each an index into leafValues (depth + c(size)). A forest has few
     * distinct leaf values (about a hundred for ψ = 256), so two bytes per leaf instead of eight:
     * a block's walk pulls a quarter of the bytes through the caches, for the same values.
     */
    private readonly leaves: Uint16Array,
    private readonly leafValues: Float64Array,
    private readonly blockRows: number,
    /** Scratch bins and path sums of one block; reused, so scoring does not allocate. */
    private readonly bins: Int32Array,
    private readonly sums: Float64Array,
  ) {}

  /** scoresMemo's memo, created on first use. */
  private memo: BinMemo | undefined;

  static build(f: ForestArrays, height: number): BinnedBatchScorer | null {
    const d = f.dimensions;
    if (height > MAX_HEIGHT || d > MAX_FEATURES) return null;
    const count = f.feature.length;
    // Padding to complete trees must not blow up memory for sparse, deep trees
    // (e.g. a large model file): at most 16 slots per real node, or 2^20 in all.
    if (f.roots.length * 2 ** height > Math.max(16 * count, 1 << 20)) return null;

    // Distinct thresholds per feature, sorted: grouped by feature into one typed array, each group
    // sorted numerically, then equal neighbours dropped (what a Set would keep: -0 and 0 compare
    // alike everywhere they are used).
    const perFeature = new Int32Array(d + 1);
    for (let i = 0; i < count; i++) if (f.feature[i]! >= 0) perFeature[f.feature[i]! + 1]!++;
    for (let j = 0; j < d; j++) perFeature[j + 1] = perFeature[j + 1]! + perFeature[j]!;
    const grouped = new Float64Array(perFeature[d]!);
    const fillAt = perFeature.slice(0, d);
    for (let i = 0; i < count; i++) {
      const feature = f.feature[i]!;
      if (feature >= 0) grouped[fillAt[feature]!++] = f.threshold[i]!;
    }
    const cutStart = new Int32Array(d + 1);
    const cutEnd = new Int32Array(d);
    const cuts = new Float64Array(grouped.length + d * CUT_PAD).fill(Infinity);
    for (let j = 0; j < d; j++) {
      const group = grouped.subarray(perFeature[j]!, perFeature[j + 1]!).sort();
      let n = cutStart[j]!;
      for (let i = 0; i < group.length; i++) {
        const v = group[i]!;
        if (i === 0 || v !== group[i - 1]) cuts[n++] = v;
      }
      if (n - cutStart[j]! >= MAX_RANK) return null;
      cutEnd[j] = n;
      cutStart[j + 1] = n + CUT_PAD;
    }
    const hints = buildHints(cuts, cutStart, cutEnd, d);

    const inner = (1 << height) - 1;
    const width = 1 << height;
    const trees = f.roots.length;
    const words = new Int32Array(trees * inner);
    const leaves = new Uint16Array(trees * width);
    // Distinct leaf values, numbered in order of appearance (a Map keyed by the value: -0 and 0
    // are one key, and depth + c(size) is never -0).
    const leafIndex = new Map<number, number>();
    const leafValues: number[] = [];
    const nodeLeaf = new Int32Array(count).fill(-1);
    const alwaysLeft = MAX_RANK << FEATURE_BITS; // feature 0, rank above any bin
    // Explicit stack of (source node, heap index, depth) to avoid recursion.
    const stack: number[] = [];
    for (let t = 0; t < trees; t++) {
      const wBase = t * inner;
      const lBase = t * width;
      stack.push(f.roots[t]!, 0, 0);
      while (stack.length > 0) {
        const depth = stack.pop()!;
        const k = stack.pop()!;
        const node = stack.pop()!;
        if (depth === height) {
          // A shallow leaf fills many slots: look its value up once per node.
          let index = nodeLeaf[node]!;
          if (index < 0) {
            const value = f.leafPath[node]!;
            index = leafIndex.get(value) ?? -1;
            if (index < 0) {
              index = leafValues.length;
              // More distinct values than an index holds: leave this forest to the plain walk.
              if (index > MAX_LEAF_INDEX) return null;
              leafIndex.set(value, index);
              leafValues.push(value);
            }
            nodeLeaf[node] = index;
          }
          leaves[lBase + k - inner] = index;
          continue;
        }
        const feature = f.feature[node]!;
        if (feature < 0) {
          words[wBase + k] = alwaysLeft;
          stack.push(node, 2 * k + 1, depth + 1, node, 2 * k + 2, depth + 1);
        } else {
          const rank = lowerBound(cuts, cutStart[feature]!, cutEnd[feature]!, f.threshold[node]!);
          words[wBase + k] = ((rank - cutStart[feature]!) << FEATURE_BITS) | feature;
          stack.push(f.left[node]!, 2 * k + 1, depth + 1, f.right[node]!, 2 * k + 2, depth + 1);
        }
      }
    }
    const blockRows = Math.max(4, Math.min(2048, Math.floor(BLOCK_VALUES / d)));
    return new BinnedBatchScorer(
      d,
      trees,
      height,
      cuts,
      cutStart,
      cutEnd,
      hints.origin,
      hints.scale,
      hints.start,
      hints.hint,
      words,
      leaves,
      Float64Array.from(leafValues),
      blockRows,
      new Int32Array(blockRows * d),
      new Float64Array(blockRows),
    );
  }

  /** Writes, for each of the n rows, the sum over trees of its path length. */
  pathSums(data: Float64Array, n: number, out: Float64Array): void {
    const { blockRows } = this;
    for (let start = 0; start < n; start += blockRows) {
      const rows = Math.min(blockRows, n - start);
      this.binBlock(data, start, rows);
      this.walkBlock(this.bins, rows);
      out.set(this.sums.subarray(0, rows), start);
    }
  }

  /**
   * Scores (2^(sum · scale), as IsolationForest.scoreBatch computes them from the path sums) with a
   * memo of binned rows. Two rows with the same bins take the same path in every tree, so their sums
   * and hence their scores are identical (bit for bit: same leaves, same order, same expression). A
   * stream of events repeats binned rows a lot (a few thousand distinct ones per 20,000 gate
   * events), so the memo, which lives as long as this scorer (one model, one scale), walks and
   * exponentiates only the rows it has not seen yet. Bounded: cleared when half full.
   */
  scoresMemo(data: Float64Array, n: number, out: Float64Array, scale: number): void {
    // One forest has one scale; another scale (never the case in the gate) starts a fresh memo.
    let memo = this.memo;
    if (memo === undefined || memo.scale !== scale)
      memo = this.memo = new BinMemo(this.d, this.blockRows, scale);
    const { blockRows, bins, sums } = this;
    for (let start = 0; start < n; start += blockRows) {
      const rows = Math.min(blockRows, n - start);
      this.binBlock(data, start, rows);
      memo.reserve(rows);
      const misses = memo.lookup(bins, rows);
      if (misses > 0) {
        this.walkBlock(memo.missBins, misses);
        for (let i = 0; i < misses; i++) sums[i] = Math.pow(2, sums[i]! * scale);
        memo.fill(sums, misses);
      }
      memo.read(out, start, rows);
    }
  }

  private binBlock(data: Float64Array, start: number, rows: number): void {
    const { d, cuts, cutStart, cutEnd, bins, bucketOrigin, bucketScale, bucketStart, hint } = this;
    for (let j = 0; j < d; j++) {
      const first = cutStart[j]!;
      const end = cutEnd[j]!;
      const origin = bucketOrigin[j]!;
      const scale = bucketScale[j]!;
      const hintBase = bucketStart[j]!;
      const lastBucket = bucketStart[j + 1]! - hintBase - 1;
      // Many features repeat their value from row to row (0 for an absent feature or a
      // never-novel value, the same priority, office hours): the same value has the same bin.
      // NaN never equals, so it is always searched (and lands in bin 0).
      let lastX = Number.NaN;
      let lastBin = 0;
      // Row r's value and bin of feature j, stepped by d (no multiplication per row).
      let at = start * d + j;
      let to = j - d;
      for (let r = 0; r < rows; r++) {
        const x = data[at]!;
        at += d;
        to += d;
        if (x === lastX) {
          bins[to] = lastBin;
          continue;
        }
        let b = (x - origin) * scale;
        // Also catches NaN; the hint only narrows the search, it never decides.
        if (!(b >= 0)) b = 0;
        else if (b > lastBucket) b = lastBucket;
        const h = hintBase + (b | 0);
        let lo = hint[h]!;
        let bin: number;
        if ((lo > first && cuts[lo - 1]! >= x) || cuts[lo + 3]! < x) {
          // Rounding put the hint past the bin, or the bucket holds more than three cuts: search.
          let hi = hint[h + 1]!;
          while (lo > first && cuts[lo - 1]! >= x) lo--;
          while (hi < end && cuts[hi]! < x) hi++;
          bin = lowerBound(cuts, lo, hi, x) - first;
        } else {
          // cuts[lo - 1] < x <= cuts[lo + 3] (sentinels past the end): the bin is lo plus how many of
          // the next three cuts are below x, counted without branches (most buckets hold 0 to 2).
          bin = lo - first + +(cuts[lo]! < x) + +(cuts[lo + 1]! < x) + +(cuts[lo + 2]! < x);
        }
        bins[to] = bin;
        lastX = x;
        lastBin = bin;
      }
    }
  }

  private walkBlock(bins: Int32Array, rows: number): void {
    const { d, sums, words, leaves, leafValues, height, trees } = this;
    const inner = (1 << height) - 1;
    const width = 1 << height;
    sums.fill(0, 0, rows);
    for (let t = 0; t < trees; t++) {
      const w = t * inner;
      const l = t * width - inner;
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        const b0 = r * d;
        const b1 = b0 + d;
        const b2 = b1 + d;
        const b3 = b2 + d;
        let k0 = 0;
        let k1 = 0;
        let k2 = 0;
        let k3 = 0;
        for (let level = 0; level < height; level++) {
          const x0 = words[w + k0]!;
          const x1 = words[w + k1]!;
          const x2 = words[w + k2]!;
          const x3 = words[w + k3]!;
          k0 = 2 * k0 + 1 + (((x0 >> FEATURE_BITS) - bins[b0 + (x0 & FEATURE_MASK)]!) >>> 31);
          k1 = 2 * k1 + 1 + (((x1 >> FEATURE_BITS) - bins[b1 + (x1 & FEATURE_MASK)]!) >>> 31);
          k2 = 2 * k2 + 1 + (((x2 >> FEATURE_BITS) - bins[b2 + (x2 & FEATURE_MASK)]!) >>> 31);
          k3 = 2 * k3 + 1 + (((x3 >> FEATURE_BITS) - bins[b3 + (x3 & FEATURE_MASK)]!) >>> 31);
        }
        sums[r] = sums[r]! + leafValues[leaves[l + k0]!]!;
        sums[r + 1] = sums[r + 1]! + leafValues[leaves[l + k1]!]!;
        sums[r + 2] = sums[r + 2]! + leafValues[leaves[l + k2]!]!;
        sums[r + 3] = sums[r + 3]! + leafValues[leaves[l + k3]!]!;
      }
      for (; r < rows; r++) {
        const b = r * d;
        let k = 0;
        for (let level = 0; level < height; level++) {
          const x = words[w + k]!;
          k = 2 * k + 1 + (((x >> FEATURE_BITS) - bins[b + (x & FEATURE_MASK)]!) >>> 31);
        }
        sums[r] = sums[r]! + leafValues[leaves[l + k]!]!;
      }
    }
  }
}

/**
 * Open-addressing table from a binned row (d bin indices) to its score under one model (one scale). A block is looked up
 * at once: rows not in the table are inserted (pending) and copied to missBins, to be walked
 * together; duplicates inside the block share one entry, so each distinct row is walked once.
 */
class BinMemo {
  private readonly capacity: number;
  private readonly mask: number;
  /** Per slot: hash | 1 (0 = empty), the row's bins, its path sum. */
  private readonly hashes: Int32Array;
  private readonly keys: Int32Array;
  private readonly values: Float64Array;
  private used = 0;
  /** Per row of the current block: its slot. */
  private readonly slotOf: Int32Array;
  /** Rows to walk (bins, row-major) and their slots. */
  readonly missBins: Int32Array;
  private readonly missSlot: Int32Array;

  constructor(
    private readonly d: number,
    blockRows: number,
    /** The score scale the values were computed with. */
    readonly scale: number,
  ) {
    let capacity = 8192;
    while (capacity < 4 * blockRows) capacity *= 2;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.hashes = new Int32Array(capacity);
    this.keys = new Int32Array(capacity * d);
    this.values = new Float64Array(capacity);
    this.slotOf = new Int32Array(blockRows);
    this.missBins = new Int32Array(blockRows * d);
    this.missSlot = new Int32Array(blockRows);
  }

  /** Makes room for a block of `rows` (clearing the table if it could pass half full). */
  reserve(rows: number): void {
    if (this.used + rows > this.capacity >>> 1) {
      this.hashes.fill(0);
      this.used = 0;
    }
  }

  /** Finds or inserts each row of the block; returns how many rows must be walked (now in missBins). */
  lookup(bins: Int32Array, rows: number): number {
    const { d, mask, hashes, keys, slotOf, missBins, missSlot } = this;
    let misses = 0;
    for (let r = 0; r < rows; r++) {
      const base = r * d;
      let h = 0x811c9dc5 | 0;
      for (let j = 0; j < d; j++) h = Math.imul(h ^ bins[base + j]!, 0x01000193);
      h ^= h >>> 15;
      h = Math.imul(h, 0x2c1b3c6d) | 1;
      let slot = (h >>> 1) & mask;
      for (;;) {
        const stored = hashes[slot]!;
        if (stored === 0) {
          hashes[slot] = h;
          // Plain loops rather than set(subarray(...)): no view objects allocated per miss.
          const keyBase = slot * d;
          const missBase = misses * d;
          for (let j = 0; j < d; j++) {
            const b = bins[base + j]!;
            keys[keyBase + j] = b;
            missBins[missBase + j] = b;
          }
          missSlot[misses++] = slot;
          this.used++;
          break;
        }
        if (stored === h && sameRow(keys, slot * d, bins, base, d)) break;
        slot = (slot + 1) & mask;
      }
      slotOf[r] = slot;
    }
    return misses;
  }

  /** Stores the scores of the misses. */
  fill(sums: Float64Array, misses: number): void {
    for (let i = 0; i < misses; i++) this.values[this.missSlot[i]!] = sums[i]!;
  }

  /** Writes the block's sums into out from `start`. */
  read(out: Float64Array, start: number, rows: number): void {
    const { values, slotOf } = this;
    for (let r = 0; r < rows; r++) out[start + r] = values[slotOf[r]!]!;
  }
}

function sameRow(a: Int32Array, ia: number, b: Int32Array, ib: number, d: number): boolean {
  for (let j = 0; j < d; j++) if (a[ia + j] !== b[ib + j]) return false;
  return true;
}

/**
 * Equal-width buckets over each feature's cuts; hint[b] is the lowerBound of
 * bucket b's left edge and hint[b + 1] that of its right edge, so a value in
 * bucket b has its lowerBound in [hint[b], hint[b + 1]] up to rounding, which
 * binBlock corrects by widening the range until it is certain.
 */
function buildHints(cuts: Float64Array, cutStart: Int32Array, cutEnd: Int32Array, d: number) {
  const origin = new Float64Array(d);
  const scale = new Float64Array(d);
  const start = new Int32Array(d + 1);
  const counts: number[] = [];
  for (let j = 0; j < d; j++) {
    const count = cutEnd[j]! - cutStart[j]!;
    const buckets = Math.max(1, Math.min(MAX_BUCKETS, 8 * count));
    counts.push(buckets);
    start[j + 1] = start[j]! + buckets + 1; // one extra entry: the right edge of the last bucket
  }
  const hint = new Int32Array(start[d]!);
  for (let j = 0; j < d; j++) {
    const first = cutStart[j]!;
    const end = cutEnd[j]!;
    const buckets = counts[j]!;
    const base = start[j]!;
    if (end - first < 2 || !(cuts[end - 1]! > cuts[first]!)) {
      origin[j] = end > first ? cuts[first]! : 0;
      scale[j] = 0;
      for (let b = 0; b <= buckets; b++) hint[base + b] = b === 0 ? first : end;
      continue;
    }
    const lo = cuts[first]!;
    const width = (cuts[end - 1]! - lo) / buckets;
    origin[j] = lo;
    scale[j] = 1 / width;
    hint[base] = first;
    // lowerBound of each bucket edge; the edges increase, so one pointer walks the cuts once.
    let at = first;
    for (let b = 1; b < buckets; b++) {
      const edge = lo + b * width;
      while (at < end && cuts[at]! < edge) at++;
      hint[base + b] = at;
    }
    hint[base + buckets] = end;
  }
  return { origin, scale, start, hint };
}

/**
 * Index of the first element of sorted[lo..hi) that is >= x (hi if none), so
 * (result - lo) counts the elements < x. NaN compares false everywhere and
 * gets 0, i.e. goes left at every node, like the plain walk.
 */
function lowerBound(sorted: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
