/**
 * What the gate needs to learn from analysts' verdicts, in bounded memory:
 *  - the feature vectors of recently forwarded events (a verdict names an
 *    event id; its vector is what training needs),
 *  - a pool of confirmed false positives, mixed into every training sample as
 *    normal data,
 *  - fingerprints of confirmed attacks, whose rows are dropped from every
 *    training sample and calibration set.
 */
import { FalconerError } from '../errors.ts';
import { hashInt, mix32 } from './hash.ts';

export type Verdict = 'false_positive' | 'true_positive';

/** A ring of the last `capacity` forwarded vectors, addressable by event id. */
export class ForwardedMemory {
  readonly capacity: number;
  readonly dimensions: number;
  private readonly vectors: Float64Array;
  private readonly ids: (string | undefined)[];
  private readonly slots = new Map<string, number>();
  private next = 0;

  constructor(capacity: number, d: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new FalconerError('CONFIG_INVALID', 'feedback memory capacity must be a positive integer', {
        capacity,
      });
    }
    this.capacity = capacity;
    this.dimensions = d;
    this.vectors = new Float64Array(capacity * d);
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.slots.size;
  }

  remember(eventId: string, vector: ArrayLike<number>): void {
    if (this.slots.has(eventId)) return;
    const slot = this.next;
    this.next = (slot + 1) % this.capacity;
    const evicted = this.ids[slot];
    if (evicted !== undefined) this.slots.delete(evicted);
    this.ids[slot] = eventId;
    this.slots.set(eventId, slot);
    const base = slot * this.dimensions;
    for (let j = 0; j < this.dimensions; j++) this.vectors[base + j] = vector[j]!;
  }

  /** A copy of the event's vector, if it is still remembered. */
  get(eventId: string): Float64Array | undefined {
    const slot = this.slots.get(eventId);
    if (slot === undefined) return undefined;
    const base = slot * this.dimensions;
    return this.vectors.slice(base, base + this.dimensions);
  }
}

/** A 52-bit fingerprint of a row's exact values (two 32-bit FNV/murmur lanes over the float bits). */
const scratch = new Float64Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

export function rowFingerprint(row: ArrayLike<number>, offset: number, d: number): number {
  const f = scratch;
  const u = scratchBits;
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let j = 0; j < d; j++) {
    f[0] = row[offset + j]! === 0 ? 0 : row[offset + j]!; // -0 and 0 alike
    a = hashInt(u[0]!, hashInt(u[1]!, a));
    b = mix32(b ^ u[0]!) ^ mix32(u[1]! + j);
  }
  return (mix32(a) & 0xfffff) * 4294967296 + (mix32(b) >>> 0);
}

/** Confirmed false positives (training data) and confirmed attacks (kept out of training). */
export class TrainingFeedback {
  readonly dimensions: number;
  readonly poolCapacity: number;
  readonly attackCapacity: number;
  private readonly pool: Float64Array;
  private readonly poolFingerprints: number[] = [];
  private poolNext = 0;
  private poolSize = 0;
  private readonly attacks = new Set<number>();
  private readonly attackOrder: number[] = [];

  constructor(d: number, poolCapacity: number, attackCapacity: number) {
    for (const [name, v] of [
      ['falsePositivePool', poolCapacity],
      ['attackMemory', attackCapacity],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new FalconerError('CONFIG_INVALID', `${name} must be a positive integer`, { [name]: v });
      }
    }
    this.dimensions = d;
    this.poolCapacity = poolCapacity;
    this.attackCapacity = attackCapacity;
    this.pool = new Float64Array(poolCapacity * d);
  }

  get falsePositives(): number {
    return this.poolSize;
  }

  get attacksRemembered(): number {
    return this.attacks.size;
  }

  addFalsePositive(vector: ArrayLike<number>): void {
    const fp = rowFingerprint(vector, 0, this.dimensions);
    this.forgetAttack(fp);
    const slot = this.poolNext;
    this.poolNext = (slot + 1) % this.poolCapacity;
    if (this.poolSize < this.poolCapacity) this.poolSize++;
    this.poolFingerprints[slot] = fp;
    const base = slot * this.dimensions;
    for (let j = 0; j < this.dimensions; j++) this.pool[base + j] = vector[j]!;
  }

  addAttack(vector: ArrayLike<number>): void {
    const fp = rowFingerprint(vector, 0, this.dimensions);
    // An analyst who changes their mind: the row leaves the false-positive pool.
    for (let i = 0; i < this.poolSize; i++) {
      if (this.poolFingerprints[i] === fp) {
        this.removePoolSlot(i);
        i--;
      }
    }
    if (this.attacks.has(fp)) return;
    if (this.attackOrder.length >= this.attackCapacity) {
      const oldest = this.attackOrder.shift();
      if (oldest !== undefined) this.attacks.delete(oldest);
    }
    this.attacks.add(fp);
    this.attackOrder.push(fp);
  }

  isAttack(row: ArrayLike<number>, offset: number): boolean {
    return this.attacks.size > 0 && this.attacks.has(rowFingerprint(row, offset, this.dimensions));
  }

  /** Row-major copy of the false-positive pool. */
  falsePositiveRows(): Float64Array {
    return this.pool.slice(0, this.poolSize * this.dimensions);
  }

  private forgetAttack(fp: number): void {
    if (!this.attacks.delete(fp)) return;
    const i = this.attackOrder.indexOf(fp);
    if (i >= 0) this.attackOrder.splice(i, 1);
  }

  /** Moves the last row into slot i (order within the pool does not matter). */
  private removePoolSlot(i: number): void {
    const d = this.dimensions;
    const last = this.poolSize - 1;
    if (i !== last) {
      this.pool.copyWithin(i * d, last * d, last * d + d);
      this.poolFingerprints[i] = this.poolFingerprints[last]!;
    }
    this.poolFingerprints.length = last;
    this.poolSize = last;
    this.poolNext = this.poolSize % this.poolCapacity;
  }
}
