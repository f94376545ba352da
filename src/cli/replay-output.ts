/** Text rendering for `falconer replay`: the live progress line and the final summary. Pure functions. */
import type { ReplayProgress, ReplaySummary } from '../ingest/replay.ts';

const BAR_WIDTH = 24;

function num(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** One progress line; with `totalBytes` known (a file), a bar and a percentage. */
export function progressLine(p: ReplayProgress, totalBytes?: number): string {
  const rate = p.seconds > 0 ? p.lines / p.seconds : 0;
  let bar = '';
  if (totalBytes !== undefined && totalBytes > 0) {
    const share = Math.min(1, p.bytes / totalBytes);
    const filled = Math.round(share * BAR_WIDTH);
    bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(share * 100).toFixed(0).padStart(3)}% `;
  }
  const retries = p.retries > 0 ? `  retries ${num(p.retries)}` : '';
  return `${bar}${num(p.lines)} lines  ${num(rate)} lines/s  sent ${num(p.sent)}  accepted ${num(p.accepted)}  rejected ${num(p.rejected)}${retries}`;
}

export function summaryText(s: ReplaySummary): string {
  const out = [
    `lines      ${num(s.lines)} (${num(s.events)} events)`,
    `sent       ${num(s.sent)}`,
    `accepted   ${num(s.accepted)}`,
    `rejected   ${num(s.rejected)}`,
    `bytes      ${bytesText(s.bytes)}`,
    `seconds    ${s.seconds.toFixed(2)}`,
    `events/s   ${num(s.eventsPerSecond)}`,
  ];
  if (s.retries > 0) out.push(`retries    ${num(s.retries)}`);
  if (s.rejections.length > 0) {
    const more =
      s.rejected > s.rejections.length ? ` (first ${s.rejections.length} of ${num(s.rejected)})` : '';
    out.push(`rejected lines${more}:`);
    for (const r of s.rejections) out.push(`  line ${r.line}: [${r.code}] ${r.reason}`);
  }
  if (s.aborted !== undefined) out.push(`ABORTED: ${s.aborted} (${num(s.unsent)} events read but not sent)`);
  return `${out.join('\n')}\n`;
}
