/**
 * Isolation Forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008).
 *
 * Each tree is grown on ψ rows drawn without replacement (all rows when n < ψ).
 * A node picks a feature uniformly among those that are not constant in it and
 * splits uniformly between that feature's min and max in the node; it becomes
 * a leaf at the height limit ceil(log2 ψ), at size <= 1, or when every feature
 * is constant. A row's path length h(x) is the depth of its leaf plus c(size),
 * the expected depth of the subtree that was not grown; the anomaly score is
 * s(x) = 2^(-E[h(x)] / c(ψ)): near 1 anomalous, well below 0.5 normal.
 *
 * All trees live in a few flat typed arrays (nodes of all trees concatenated),
 * and scoring walks them without allocating. A row goes right at a node when
 * x[feature] > threshold, left otherwise (so a NaN value goes left). Batch
 * scoring uses the branch-free kernel of iforest-batch.ts, which gives the
 * same results bit for bit.
 */
import { FalconerError } from '../errors.ts';
import { BinnedBatchScorer } from './iforest-batch.ts';
import { createRng, type Rng } from './random.ts';

export interface IsolationForestParams {
  /** Number of trees t (default 100). */
  trees: number;
  /** Subsample size ψ per tree (default 256); capped at n when fitting. */
  sampleSize: number;
  /** Seed of the RNG: same data + params => bit-identical model (default 1). */
  seed: number;
  /** Height limit (default ceil(log2 ψ) with ψ = min(sampleSize, n)). */
  maxDepth?: number;
}

/** The serialized forest; arrays are indexed by node over all trees. */
export interface IsolationForestJson {
  dimensions: number;
  params: Required<IsolationForestParams>;
  /** Effective ψ = min(sampleSize, n): the normalizer of the score is c(ψ). */
  subsampleSize: number;
  /** Index of each tree's root node. */
  roots: number[];
  /** Split feature, or -1 for a leaf. */
  feature: number[];
  /** Split value: rows with x[feature] > threshold go right, others left (0 for leaves). */
  threshold: number[];
  /** Child node indices, each greater than its parent's (-1 for leaves). */
  left: number[];
  right: number[];
  /** Number of training rows that reached the node; a leaf's size feeds c(size). */
  size: number[];
}

export const DEFAULT_PARAMS: Readonly<Omit<Required<IsolationForestParams>, 'maxDepth'>> = {
  trees: 100,
  sampleSize: 256,
  seed: 1,
};

/** Euler–Mascheroni constant, for the harmonic number H(i) ≈ ln(i) + γ. */
export const EULER_GAMMA = 0.5772156649;

/**
 * c(n), the average path length of an unsuccessful search in a binary search
 * tree of n points: c(n) = 2H(n-1) - 2(n-1)/n with H(i) ≈ ln(i) + γ.
 * Special cases (as in scikit-learn, which we benchmark against): c(0) = c(1) = 0,
 * since a single point needs no further split, and c(2) = 1, the exact value,
 * because the harmonic approximation is poor there (it would give 2γ - 1 ≈ 0.154).
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

function fail(message: string, context: Record<string, unknown>): never {
  throw new FalconerError('TRAIN_DATA_INVALID', message, context);
}

function resolveParams(params: Partial<IsolationForestParams> | undefined, n: number) {
  const trees = params?.trees ?? DEFAULT_PARAMS.trees;
  const sampleSize = params?.sampleSize ?? DEFAULT_PARAMS.sampleSize;
  const seed = params?.seed ?? DEFAULT_PARAMS.seed;
  if (!Number.isInteger(trees) || trees < 1) fail('trees must be a positive integer', { trees });
  if (!Number.isInteger(sampleSize) || sampleSize < 2) {
    fail('sampleSize must be an integer >= 2', { sampleSize });
  }
  if (!Number.isSafeInteger(seed)) fail('seed must be a safe integer', { seed });
  const psi = Math.min(sampleSize, n);
  const maxDepth = params?.maxDepth ?? Math.ceil(Math.log2(psi));
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 64) {
    fail('maxDepth must be an integer in [0, 64]', { maxDepth });
  }
  return { params: { trees, sampleSize, seed, maxDepth }, psi };
}

/** Mutable node storage used while growing the forest; trimmed at the end. */
interface NodeArrays {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  size: Int32Array;
}

/**
 * Grows all trees. Work buffers are allocated once per fit and reused across
 * nodes and trees; the node arrays are sized for the worst case (2ψ-1 nodes
 * per tree, since every split leaves both children non-empty).
 */
class ForestBuilder {
  private readonly nodes: NodeArrays;
  private count = 0;
  /** Row indices of the current tree's sample, partitioned in place per node. */
  private readonly sample: Int32Array;
  /** A permutation of 0..n-1; partial Fisher–Yates draws each tree's sample. */
  private readonly perm: Int32Array;
  /** A permutation of 0..d-1 from which a node draws features without replacement. */
  private readonly features: Int32Array;
  /** Explicit stack: node index, start, end, depth (no recursion limits). */
  private readonly stack: Int32Array;

  constructor(
    private readonly data: Float64Array,
    private readonly n: number,
    private readonly d: number,
    private readonly psi: number,
    private readonly maxDepth: number,
    trees: number,
    private readonly rng: Rng,
  ) {
    const capacity = trees * (2 * psi - 1);
    this.nodes = {
      feature: new Int32Array(capacity),
      threshold: new Float64Array(capacity),
      left: new Int32Array(capacity),
      right: new Int32Array(capacity),
      size: new Int32Array(capacity),
    };
    this.sample = new Int32Array(psi);
    this.perm = new Int32Array(n);
    for (let i = 0; i < n; i++) this.perm[i] = i;
    this.features = new Int32Array(d);
    for (let j = 0; j < d; j++) this.features[j] = j;
    this.stack = new Int32Array(4 * (2 * psi + 1));
  }

  growTree(): number {
    const { perm, sample, psi, n, rng } = this;
    if (psi === n) {
      sample.set(perm);
    } else {
      for (let i = 0; i < psi; i++) {
        const j = i + rng.int(n - i);
        const t = perm[i]!;
        perm[i] = perm[j]!;
        perm[j] = t;
        sample[i] = perm[i]!;
      }
    }
    const root = this.newNode(psi);
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = root;
    stack[sp++] = 0;
    stack[sp++] = psi;
    stack[sp++] = 0;
    while (sp > 0) {
      const depth = stack[--sp]!;
      const end = stack[--sp]!;
      const start = stack[--sp]!;
      const node = stack[--sp]!;
      if (depth >= this.maxDepth || end - start <= 1) continue;
      const mid = this.split(node, start, end);
      if (mid < 0) continue; // all features constant: stays a leaf
      const left = this.newNode(mid - start);
      const right = this.newNode(end - mid);
      this.nodes.left[node] = left;
      this.nodes.right[node] = right;
      stack[sp++] = right;
      stack[sp++] = mid;
      stack[sp++] = end;
      stack[sp++] = depth + 1;
      stack[sp++] = left;
      stack[sp++] = start;
      stack[sp++] = mid;
      stack[sp++] = depth + 1;
    }
    return root;
  }

  private newNode(size: number): number {
    const i = this.count++;
    this.nodes.feature[i] = -1;
    this.nodes.threshold[i] = 0;
    this.nodes.left[i] = -1;
    this.nodes.right[i] = -1;
    this.nodes.size[i] = size;
    return i;
  }

  /**
   * Draws features uniformly without replacement until one is not constant
   * over sample[start..end) (the same distribution as scikit-learn's
   * ExtraTree splitter with max_features=1), splits it uniformly in [min, max)
   * and partitions the sample. Returns the partition point, or -1 when all
   * features are constant.
   */
  private split(node: number, start: number, end: number): number {
    const { data, d, features, sample, rng } = this;
    let remaining = d;
    while (remaining > 0) {
      const pick = rng.int(remaining);
      const f = features[pick]!;
      features[pick] = features[remaining - 1]!;
      features[remaining - 1] = f;
      remaining--;
      let min = Infinity;
      let max = -Infinity;
      for (let i = start; i < end; i++) {
        const v = data[sample[i]! * d + f]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      if (!(max > min)) continue;
      let threshold = min + rng.next() * (max - min);
      // Rounding can land on max, which would leave the right child empty.
      if (threshold >= max) threshold = min;
      let lo = start;
      let hi = end - 1;
      while (lo <= hi) {
        if (data[sample[lo]! * d + f]! <= threshold) {
          lo++;
        } else {
          const t = sample[lo]!;
          sample[lo] = sample[hi]!;
          sample[hi] = t;
          hi--;
        }
      }
      this.nodes.feature[node] = f;
      this.nodes.threshold[node] = threshold;
      return lo;
    }
    return -1;
  }

  finish(): NodeArrays {
    const c = this.count;
    const { feature, threshold, left, right, size } = this.nodes;
    return {
      feature: feature.slice(0, c),
      threshold: threshold.slice(0, c),
      left: left.slice(0, c),
      right: right.slice(0, c),
      size: size.slice(0, c),
    };
  }
}

/** An Isolation Forest being fitted a few trees at a time (IsolationForest.fitter). */
export interface ForestFitter {
  /** Grows up to `trees` more trees; true once the forest is complete. */
  grow(trees: number): boolean;
  /** The fitted forest; only once grow() returned true. */
  result(): IsolationForest;
}

export class IsolationForest {
  readonly dimensions: number;
  readonly params: Readonly<Required<IsolationForestParams>>;
  readonly treeCount: number;
  /** Effective ψ used for every tree (min(sampleSize, n) at fit time). */
  readonly subsampleSize: number;

  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly size: Int32Array;
  /** For leaves: depth + c(size), precomputed so scoring is one add per tree. */
  private readonly leafPath: Float64Array;
  /** c(ψ), the score normalizer. */
  private readonly normalizer: number;
  /** Depth of the deepest leaf over all trees. */
  readonly height: number;
  /** Branch-free batch kernel; null when the forest's shape does not fit it. */
  private readonly batch: BinnedBatchScorer | null;

  private constructor(
    dimensions: number,
    params: Required<IsolationForestParams>,
    subsampleSize: number,
    roots: Int32Array,
    nodes: NodeArrays,
  ) {
    this.dimensions = dimensions;
    this.params = Object.freeze({ ...params });
    this.treeCount = roots.length;
    this.subsampleSize = subsampleSize;
    this.roots = roots;
    this.feature = nodes.feature;
    this.threshold = nodes.threshold;
    this.left = nodes.left;
    this.right = nodes.right;
    this.size = nodes.size;
    this.normalizer = averagePathLength(subsampleSize);
    // Children always have larger indices than their parent, so one forward
    // pass assigns every node its depth.
    const count = nodes.feature.length;
    const depth = new Int32Array(count);
    this.leafPath = new Float64Array(count);
    let height = 0;
    for (let i = 0; i < count; i++) {
      if (nodes.feature[i]! < 0) {
        this.leafPath[i] = depth[i]! + averagePathLength(nodes.size[i]!);
        if (depth[i]! > height) height = depth[i]!;
      } else {
        depth[nodes.left[i]!] = depth[i]! + 1;
        depth[nodes.right[i]!] = depth[i]! + 1;
      }
    }
    this.height = height;
    this.batch = BinnedBatchScorer.build({ dimensions, roots, ...nodes, leafPath: this.leafPath }, height);
  }

  /** Number of nodes over all trees. */
  get nodeCount(): number {
    return this.feature.length;
  }

  static fit(
    data: Float64Array,
    n: number,
    d: number,
    params?: Partial<IsolationForestParams>,
  ): IsolationForest {
    const fitter = IsolationForest.fitter(data, n, d, params);
    fitter.grow(Infinity);
    return fitter.result();
  }

  /**
   * fit() a few trees at a time, for a caller that must not block for the whole forest (a gate
   * retraining while it keeps scoring). Same data and params ⇒ the same forest as fit(), bit for bit,
   * however the trees are spread over grow() calls. `data` must not change until result().
   */
  static fitter(
    data: Float64Array,
    n: number,
    d: number,
    params?: Partial<IsolationForestParams>,
  ): ForestFitter {
    if (!Number.isInteger(d) || d < 1) fail('dimensions must be a positive integer', { d });
    if (!Number.isInteger(n) || n < 2) fail('at least 2 training rows are needed', { n });
    if (data.length < n * d) {
      fail('data is shorter than n * d', { length: data.length, n, d });
    }
    for (let i = 0; i < n * d; i++) {
      if (!Number.isFinite(data[i]!)) {
        fail('training data must be finite numbers', { row: Math.floor(i / d), column: i % d });
      }
    }
    const { params: resolved, psi } = resolveParams(params, n);
    const rng = createRng(resolved.seed);
    const builder = new ForestBuilder(data, n, d, psi, resolved.maxDepth, resolved.trees, rng);
    const roots = new Int32Array(resolved.trees);
    let grown = 0;
    let forest: IsolationForest | undefined;
    return {
      grow(trees: number): boolean {
        const until = Math.min(resolved.trees, grown + trees);
        while (grown < until) roots[grown++] = builder.growTree();
        return grown === resolved.trees;
      },
      result(): IsolationForest {
        if (grown < resolved.trees)
          fail('the forest is not fully grown yet', { grown, trees: resolved.trees });
        return (forest ??= new IsolationForest(d, resolved, psi, roots, builder.finish()));
      },
    };
  }

  private checkRow(row: ArrayLike<number>, offset: number): void {
    if (!Number.isInteger(offset) || offset < 0 || row.length < offset + this.dimensions) {
      throw new FalconerError('USAGE', 'row is shorter than the model dimensions', {
        length: row.length,
        offset,
        dimensions: this.dimensions,
      });
    }
  }

  /** Sum of h(x) over all trees; rows are assumed checked. */
  private pathSum(row: ArrayLike<number>, offset: number): number {
    const { roots, feature, threshold, left, right, leafPath } = this;
    let sum = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = row[offset + f]! > threshold[node]! ? right[node]! : left[node]!;
        f = feature[node]!;
      }
      sum += leafPath[node]!;
    }
    return sum;
  }

  /** E[h(x)]: mean over trees of leaf depth + c(leaf size). */
  pathLength(row: ArrayLike<number>, offset = 0): number {
    this.checkRow(row, offset);
    return this.pathSum(row, offset) / this.treeCount;
  }

  /** s(x) = 2^(-E[h(x)] / c(ψ)), in (0, 1]; higher is more anomalous. */
  score(row: ArrayLike<number>, offset = 0): number {
    this.checkRow(row, offset);
    // Same expression as scoreBatch, so both give bit-identical scores.
    return Math.pow(2, this.pathSum(row, offset) * (-1 / (this.treeCount * this.normalizer)));
  }

  /**
   * Scores n row-major rows of data into out (allocated when absent). With `memo`, path sums of
   * already seen binned rows are reused (same scores, bit for bit; a bounded table kept with the
   * forest): worth it for streams that repeat themselves, such as the gate's events.
   */
  scoreBatch(data: Float64Array, n: number, out?: Float64Array, memo = false): Float64Array {
    const d = this.dimensions;
    if (!Number.isInteger(n) || n < 0 || data.length < n * d) {
      throw new FalconerError('USAGE', 'data is shorter than n * dimensions', {
        length: data.length,
        n,
        dimensions: d,
      });
    }
    const result = out ?? new Float64Array(n);
    if (result.length < n) {
      throw new FalconerError('USAGE', 'output buffer is shorter than n', { length: result.length, n });
    }
    const scale = -1 / (this.treeCount * this.normalizer);
    if (this.batch) {
      if (memo) this.batch.scoresMemo(data, n, result, scale);
      else {
        this.batch.pathSums(data, n, result);
        for (let i = 0; i < n; i++) result[i] = Math.pow(2, result[i]! * scale);
      }
    } else {
      for (let i = 0; i < n; i++) result[i] = Math.pow(2, this.pathSum(data, i * d) * scale);
    }
    return result;
  }

  toJSON(): IsolationForestJson {
    return {
      dimensions: this.dimensions,
      params: { ...this.params },
      subsampleSize: this.subsampleSize,
      roots: Array.from(this.roots),
      feature: Array.from(this.feature),
      threshold: Array.from(this.threshold),
      left: Array.from(this.left),
      right: Array.from(this.right),
      size: Array.from(this.size),
    };
  }

  /**
   * Rebuilds a forest from its JSON, refusing anything that could make
   * scoring hang, crash or read out of bounds (see validateForestJson).
   */
  static fromJSON(json: unknown): IsolationForest {
    const v = validateForestJson(json);
    return new IsolationForest(v.dimensions, v.params, v.subsampleSize, v.roots, v.nodes);
  }
}

// ---------------------------------------------------------------------------
// Validation of serialized forests

function invalid(path: string, why: string): never {
  throw new FalconerError('MODEL_INVALID', `invalid forest at ${path}: ${why}`, { path, why });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intField(obj: Record<string, unknown>, key: string, path: string, min: number, max: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(path ? `${path}.${key}` : key, `expected an integer in [${min}, ${max}]`);
  }
  return v;
}

function intArray(
  obj: Record<string, unknown>,
  key: string,
  length: number,
  min: number,
  max: number,
): Int32Array {
  const v = obj[key];
  if (!Array.isArray(v)) invalid(key, 'expected an array');
  if (v.length !== length) invalid(key, `expected ${length} entries, found ${v.length}`);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      invalid(`${key}[${i}]`, `expected an integer in [${min}, ${max}]`);
    }
    out[i] = x;
  }
  return out;
}

const MAX_NODES = 1 << 28;

/**
 * Structural validation: integer params in range; all node arrays of one
 * length; roots and children in range; every child index strictly greater
 * than its parent's (so no cycle can exist); every node the root or child of
 * exactly one tree (a true forest, no shared subtrees); leaves with -1
 * children and size >= 1; split features < dimensions; finite thresholds;
 * depths within maxDepth.
 */
export function validateForestJson(json: unknown): {
  dimensions: number;
  params: Required<IsolationForestParams>;
  subsampleSize: number;
  roots: Int32Array;
  nodes: NodeArrays;
} {
  if (!isRecord(json)) invalid('$', 'expected an object');
  const dimensions = intField(json, 'dimensions', '', 1, 1 << 20);
  const p = json.params;
  if (!isRecord(p)) invalid('params', 'expected an object');
  const params = {
    trees: intField(p, 'trees', 'params', 1, 1 << 20),
    sampleSize: intField(p, 'sampleSize', 'params', 2, 1 << 28),
    seed: intField(p, 'seed', 'params', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    maxDepth: intField(p, 'maxDepth', 'params', 0, 64),
  };
  const subsampleSize = intField(json, 'subsampleSize', '', 2, params.sampleSize);
  const feat = json.feature;
  if (!Array.isArray(feat)) invalid('feature', 'expected an array');
  const count = feat.length;
  if (count < 1 || count > MAX_NODES) invalid('feature', `node count ${count} out of range`);
  const roots = intArray(json, 'roots', params.trees, 0, count - 1);
  const feature = intArray(json, 'feature', count, -1, dimensions - 1);
  const left = intArray(json, 'left', count, -1, count - 1);
  const right = intArray(json, 'right', count, -1, count - 1);
  const size = intArray(json, 'size', count, 0, 0x7fffffff);
  const thrRaw = json.threshold;
  if (!Array.isArray(thrRaw)) invalid('threshold', 'expected an array');
  if (thrRaw.length !== count) invalid('threshold', `expected ${count} entries, found ${thrRaw.length}`);
  const threshold = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const x: unknown = thrRaw[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) invalid(`threshold[${i}]`, 'expected a finite number');
    threshold[i] = x;
  }

  // Each node must be referenced exactly once: as a root or as one child.
  const refs = new Uint8Array(count);
  for (let t = 0; t < roots.length; t++) {
    const r = roots[t]!;
    if (refs[r]! !== 0) invalid(`roots[${t}]`, `node ${r} is referenced twice`);
    refs[r] = 1;
  }
  const depth = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    if (refs[i]! === 0) invalid(`feature[${i}]`, 'node is not reachable from any root');
    if (feature[i]! < 0) {
      if (left[i]! !== -1 || right[i]! !== -1) invalid(`left[${i}]`, 'a leaf must have -1 children');
      if (size[i]! < 1) invalid(`size[${i}]`, 'a leaf must hold at least one training row');
      continue;
    }
    for (const [name, children] of [
      ['left', left],
      ['right', right],
    ] as const) {
      const c = children[i]!;
      if (c <= i) invalid(`${name}[${i}]`, `child ${c} must be greater than its parent ${i}`);
      if (refs[c]! !== 0) invalid(`${name}[${i}]`, `node ${c} is referenced twice`);
      refs[c] = 1;
      depth[c] = depth[i]! + 1;
      if (depth[c]! > params.maxDepth) invalid(`${name}[${i}]`, `depth exceeds maxDepth ${params.maxDepth}`);
    }
  }
  return {
    dimensions,
    params,
    subsampleSize,
    roots,
    nodes: { feature, threshold, left, right, size },
  };
}
