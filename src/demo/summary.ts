/** Plain-text lines for the live summary and the final report of `falconer up --demo`. */
import type { DetectStats } from '../agents/detect/service.ts';
import type { AttackOutcome } from './attack-tracker.ts';

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const pct = (part: number, whole: number): string =>
  whole > 0 ? `${((100 * part) / whole).toFixed(2)} %` : '–';

export function liveLine(stats: DetectStats, received: number, rejected: number, perSecond: number): string {
  const g = stats.gate;
  const model =
    g.modelVersion === null ? 'warming up' : `model ${g.modelVersion} thr ${g.threshold?.toFixed(3)}`;
  return [
    `received ${fmt(received)} (${fmt(perSecond)}/s)`,
    `rejected ${fmt(rejected)}`,
    `scored ${fmt(g.scored)}`,
    `forwarded ${fmt(g.forwarded)} (${pct(g.forwarded, g.seen)})`,
    `signals ${fmt(g.signalsOpened)}`,
    model,
  ].join(' | ');
}

export interface DemoReport {
  readonly events: number;
  readonly rejected: number;
  readonly scored: number;
  readonly forwarded: number;
  readonly forwardRate: number;
  readonly signals: number;
  readonly modelVersion: string | null;
  readonly attacks: readonly AttackOutcome[];
  readonly attacksDetected: number;
  readonly benignForwarded: number;
  readonly seconds: number;
}

export function reportText(r: DemoReport): string {
  const lines = [
    `events ${fmt(r.events)}, rejected ${fmt(r.rejected)}, scored ${fmt(r.scored)} in ${r.seconds.toFixed(1)} s`,
    `forwarded ${fmt(r.forwarded)} (${(100 * r.forwardRate).toFixed(2)} % of events) into ${fmt(r.signals)} signals; model ${r.modelVersion ?? 'none'}`,
    `attacks detected ${r.attacksDetected} / ${r.attacks.length}; benign events forwarded ${fmt(r.benignForwarded)}`,
    '',
    'attack            kind                technique    events  detected  time to signal',
  ];
  for (const a of r.attacks) {
    const t = a.msToSignal === null ? '–' : `${(a.msToSignal / 1000).toFixed(1)} s`;
    lines.push(
      `${a.attackId.padEnd(17)} ${a.kind.padEnd(19)} ${a.technique.padEnd(12)} ${String(a.events).padStart(6)}  ${(a.detected ? 'yes' : 'NO').padEnd(8)}  ${t}`,
    );
  }
  return lines.join('\n');
}
