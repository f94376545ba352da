/**
 * The scenario's randomness: the gate's seeded xoshiro128** (src/gate/random.ts)
 * with the helpers a simulation needs. Independent streams are derived by name
 * (cluster, attacks, background…), so adding draws to one part of the scenario
 * never shifts the others: same seed, same cluster, same attack plan.
 */
import { createRng, deriveSeed, type Rng } from '../gate/random.ts';

/** FNV-1a of a stream name: a stable 32-bit stream number. */
function streamNumber(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const HEX = '0123456789abcdef';

export class ScenarioRandom {
  private readonly rng: Rng;

  private constructor(rng: Rng) {
    this.rng = rng;
  }

  /** The stream `name` of a scenario seed. */
  static stream(seed: number, name: string): ScenarioRandom {
    return new ScenarioRandom(createRng(deriveSeed(seed, streamNumber(name))));
  }

  /** A child stream: consumes one draw of this stream. */
  fork(name: string): ScenarioRandom {
    return new ScenarioRandom(createRng(deriveSeed(this.rng.nextU32(), streamNumber(name))));
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.rng.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return this.rng.int(n);
  }

  /** Uniform integer in [min, max], both included. */
  between(min: number, max: number): number {
    return min + this.rng.int(max - min + 1);
  }

  /** Uniform real in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.rng.next();
  }

  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.rng.int(items.length)] as T;
  }

  /** One of `items`, with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let u = this.rng.next() * total;
    for (const [item, w] of items) {
      u -= w;
      if (u < 0) return item;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  }

  /** Exponential waiting time for a Poisson process of `rate` events per unit. */
  exp(rate: number): number {
    return -Math.log(1 - this.rng.next()) / rate;
  }

  /** Log-normal with the given median and spread (sigma of the log): durations, sizes. */
  logNormal(median: number, sigma: number): number {
    // Box-Muller; one normal per call keeps the stream simple to reason about.
    const u1 = 1 - this.rng.next();
    const u2 = this.rng.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return median * Math.exp(sigma * z);
  }

  hex(length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += HEX[this.rng.int(16)];
    return s;
  }

  /** `length` characters drawn from `alphabet`. */
  chars(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.rng.int(alphabet.length)];
    return s;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  }
}
