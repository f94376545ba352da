/** What every benchmark result records about the machine it ran on (shared and noisy: load matters). */
import { cpus, loadavg } from 'node:os';

export function machineInfo(): { node: string; cpu: string; cores: number } {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
}

/** The 1, 5 and 15 minute load averages, rounded; now unless given. */
export function loadAverage(values: readonly number[] = loadavg()): number[] {
  return values.map((x) => Number(x.toFixed(2)));
}
