/**
 * Seeded pseudo-random numbers for the gate: xoshiro128** (Blackman & Vigna)
 * seeded through splitmix32. Only 32-bit integer arithmetic (Math.imul, >>>)
 * is used, so a seed yields the same sequence bit for bit on every machine and
 * Node version; that is what makes a trained model reproducible from its seed.
 */
import { FalconerError } from '../errors.ts';

export interface Rng {
  /** Uniform unsigned 32-bit integer. */
  nextU32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number;
  /** Uniform integer in [0, maxExclusive); maxExclusive is a positive safe integer. */
  int(maxExclusive: number): number;
}

const TWO_POW_32 = 4294967296;
const TWO_POW_31 = 2147483648;
const TWO_POW_53 = 9007199254740992;

/** splitmix32 step: a well-mixed 32-bit value from a Weyl sequence, used only for seeding. */
function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new FalconerError('USAGE', 'RNG seed must be a safe integer', { seed: String(seed) });
  }
}

class Xoshiro128StarStar implements Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number, state?: readonly [number, number, number, number]) {
    if (state) {
      [this.s0, this.s1, this.s2, this.s3] = state.map((x) => x >>> 0) as [number, number, number, number];
      if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
      return;
    }
    // Both halves of a 53-bit seed matter: two splitmix streams, XOR-ed.
    const lo = { s: seed >>> 0 };
    const hi = { s: (Math.floor(seed / TWO_POW_32) ^ 0x6a09e667) >>> 0 };
    this.s0 = (splitmix32(lo) ^ splitmix32(hi)) >>> 0;
    this.s1 = (splitmix32(lo) ^ splitmix32(hi)) >>> 0;
    this.s2 = (splitmix32(lo) ^ splitmix32(hi)) >>> 0;
    this.s3 = (splitmix32(lo) ^ splitmix32(hi)) >>> 0;
    // The all-zero state is the one fixed point of xoshiro; never start there.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  nextU32(): number {
    const s1 = this.s1;
    const x = Math.imul(s1, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  next(): number {
    const a = this.nextU32() >>> 5; // 27 bits
    const b = this.nextU32() >>> 6; // 26 bits
    return (a * 67108864 + b) / TWO_POW_53;
  }

  int(maxExclusive: number): number {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
      throw new FalconerError('USAGE', 'int() bound must be a positive safe integer', {
        maxExclusive: String(maxExclusive),
      });
    }
    if (maxExclusive < TWO_POW_31) {
      // The same rejection sampling in 32-bit integer arithmetic (a reservoir calls this for every
      // row it is offered, and a floating-point % is a library call): 2^32 mod m is
      // ((2^32 − 1) mod m + 1) mod m, and both operands of each % are unsigned 32-bit integers.
      const m = maxExclusive >>> 0;
      const limit = TWO_POW_32 - ((((0xffffffff % m) >>> 0) + 1) % m);
      let u = this.nextU32();
      while (u >= limit) u = this.nextU32();
      return (u % m) >>> 0;
    }
    if (maxExclusive <= TWO_POW_32) {
      // Rejection sampling: unbiased for every bound up to 2^32.
      const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
      let u = this.nextU32();
      while (u >= limit) u = this.nextU32();
      return u % maxExclusive;
    }
    // Beyond 2^32 (e.g. a reservoir that has seen billions of rows) 53 bits
    // keep the bias below 2^-20, which is irrelevant for sampling.
    return Math.floor(this.next() * maxExclusive);
  }
}

export function createRng(seed: number): Rng {
  assertSeed(seed);
  return new Xoshiro128StarStar(seed);
}

/** An RNG started from a raw xoshiro128 state; for checking against the reference vectors. */
export function createRngFromState(state: readonly [number, number, number, number]): Rng {
  return new Xoshiro128StarStar(0, state);
}

/**
 * A seed for an independent sub-stream (e.g. the reservoir of a stream fit),
 * so that two components seeded from one user seed do not share a sequence.
 */
export function deriveSeed(seed: number, stream: number): number {
  assertSeed(seed);
  const rng = createRng(seed);
  const mixer = createRng(stream);
  // 53 bits so that the derived seed keeps the full seed space.
  return ((rng.nextU32() ^ mixer.nextU32()) >>> 0) * 2097152 + (mixer.nextU32() >>> 11);
}
