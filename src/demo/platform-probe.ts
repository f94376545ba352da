/**
 * How the demo and the platform benchmark look at a running platform from
 * outside, as an operator would: the agents' /metrics, the HITL API with its
 * token, detect's signal log, and "has the pipeline settled".
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Platform } from '../platform/launch.ts';
import { parsePrometheusText, sumMetric, type Sample } from './prometheus-text.ts';

export async function scrapeMetrics(url: string): Promise<Sample[]> {
  // Generous: under load an agent can be busy for seconds (a rule proposal runs on detect's loop).
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  return parsePrometheusText(await res.text());
}

export async function hitlGet<T>(platform: Platform, path: string): Promise<T> {
  const token = (await readFile(platform.endpoints.apiTokenFile, 'utf8')).trim();
  const res = await fetch(`${platform.endpoints.api}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(20_000),
  });
  if (!res.ok) throw new Error(`HITL API ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export interface ListedIncident {
  id: string;
  status: string;
  traceId: string;
  createdAt: number;
  verdict?: string;
}

export async function listIncidents(platform: Platform): Promise<ListedIncident[]> {
  return (await hitlGet<{ incidents: ListedIncident[] }>(platform, '/incidents?limit=1000')).incidents;
}

/** Event ids per signal id, from detect's signal log (every update carries the signal's event ids). */
export async function signalEventIds(dataDir: string): Promise<Map<string, Set<string>>> {
  const byId = new Map<string, Set<string>>();
  const text = await readFile(join(dataDir, 'signals.ndjson'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const s = JSON.parse(line) as { id?: string; eventIds?: string[] };
      if (typeof s.id !== 'string' || !Array.isArray(s.eventIds)) continue;
      let set = byId.get(s.id);
      if (!set) byId.set(s.id, (set = new Set()));
      for (const e of s.eventIds) set.add(e);
    } catch {
      // a line still being written
    }
  }
  return byId;
}

/** Incident states the coordinator passes through on its own; the others wait for people or are final. */
const MOVING = new Set(['new', 'analysing', 'proposed', 'remediating']);

/**
 * Waits until every accepted event is scored, no signal report is queued and
 * no incident is mid-step, for `quietMs` in a row (a signal in flight between
 * detect and the coordinator has landed by then). Resolves with the wait.
 */
export async function settle(
  platform: Platform,
  accepted: number,
  opts: { timeoutMs?: number; quietMs?: number; onProgress?: (line: string) => void } = {},
): Promise<number> {
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 180_000;
  let quietSince = 0;
  for (;;) {
    const detect = await scrapeMetrics(platform.endpoints.metrics.detect);
    const seen =
      sumMetric(detect, 'falconer_events_scored_total') +
      sumMetric(detect, 'falconer_gate_warmup_events_total');
    const outbox = sumMetric(detect, 'falconer_signal_outbox_depth');
    const moving = (await listIncidents(platform)).filter((i) => MOVING.has(i.status)).length;
    opts.onProgress?.(
      `settling: ${seen}/${accepted} scored, ${outbox} signals queued, ${moving} incidents in progress`,
    );
    if (seen >= accepted && outbox === 0 && moving === 0) {
      quietSince ||= Date.now();
      if (Date.now() - quietSince >= (opts.quietMs ?? 1_500)) return Date.now() - started;
    } else quietSince = 0;
    if (Date.now() - started > timeoutMs) throw new Error('the platform did not settle in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}
