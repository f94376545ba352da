/**
 * Drives a running platform through a generated scenario and reports what it
 * did: replays the scenario into detect's ingest over HTTP, waits until the
 * pipeline settles (every accepted event scored, every signal delivered, no
 * incident mid-step), then joins the scenario's labels with the incidents
 * from the coordinator's API, the agents' metrics and their logs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentName } from '../agents/contracts.ts';
import { createHttpTarget } from '../ingest/http-target.ts';
import { replayStream } from '../ingest/replay.ts';
import type { Platform } from '../platform/launch.ts';
import { AttackLedger } from './attack-ledger.ts';
import { buildPlatformReport, type IncidentView, type PlatformReport } from './platform-report.ts';
import { parsePrometheusText, sumMetric, type Sample } from './prometheus-text.ts';
import { scenarioNdjson } from './scenario-source.ts';
import { checkTraces } from './trace-check.ts';

export interface PlatformDemoOptions {
  readonly seed: number;
  readonly minutes: number;
  readonly rate: number;
  readonly replayRate: number;
  readonly cluster: string;
  readonly settleTimeoutMs?: number;
  readonly onProgress?: (line: string) => void;
}

/** Incident states the coordinator passes through on its own; the others wait for people or are final. */
const MOVING = new Set(['new', 'analysing', 'proposed', 'remediating']);

async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return parsePrometheusText(await res.text());
}

async function api<T>(platform: Platform, path: string): Promise<T> {
  const token = (await readFile(platform.endpoints.apiTokenFile, 'utf8')).trim();
  const res = await fetch(`${platform.endpoints.api}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`HITL API ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

interface ListedIncident {
  id: string;
  status: string;
  traceId: string;
  createdAt: number;
  verdict?: string;
}
interface IncidentDetail {
  incident: ListedIncident;
  proposals: unknown[];
  signals: { id: string }[];
}

/** Event ids per signal id, from detect's signal log (every update carries the signal's event ids). */
async function signalEvents(dataDir: string): Promise<Map<string, Set<string>>> {
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

async function settle(
  platform: Platform,
  accepted: number,
  timeoutMs: number,
  progress?: (l: string) => void,
) {
  const deadline = Date.now() + timeoutMs;
  let stableSince = 0;
  for (;;) {
    const detect = await scrape(platform.endpoints.metrics.detect);
    const seen =
      sumMetric(detect, 'falconer_events_scored_total') +
      sumMetric(detect, 'falconer_gate_warmup_events_total');
    const outbox = sumMetric(detect, 'falconer_signal_outbox_depth');
    const { incidents } = await api<{ incidents: ListedIncident[] }>(platform, '/incidents?limit=1000');
    const moving = incidents.filter((i) => MOVING.has(i.status)).length;
    const quiet = seen >= accepted && outbox === 0 && moving === 0;
    progress?.(
      `settling: ${seen}/${accepted} scored, ${outbox} signals queued, ${moving} incidents in progress`,
    );
    if (quiet) {
      stableSince ||= Date.now();
      // Quiet for a moment: a signal in flight between detect and the coordinator has landed.
      if (Date.now() - stableSince >= 1_500) return;
    } else stableSince = 0;
    if (Date.now() > deadline) throw new Error('the platform did not settle in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runPlatformDemo(
  platform: Platform,
  opts: PlatformDemoOptions,
): Promise<PlatformReport> {
  const ledger = new AttackLedger();
  const summary = await replayStream(
    scenarioNdjson({ seed: opts.seed, minutes: opts.minutes, rate: opts.rate }, ledger, opts.cluster),
    createHttpTarget({ url: platform.endpoints.ingest }),
    {
      rate: opts.replayRate,
      normalize: { cluster: opts.cluster },
      onProgress: (p) =>
        opts.onProgress?.(`replaying: ${p.accepted} events accepted, ${p.rejected} rejected`),
    },
  );
  const accepted = summary.accepted;
  await settle(platform, accepted, opts.settleTimeoutMs ?? 120_000, opts.onProgress);

  const detect = await scrape(platform.endpoints.metrics.detect);
  const notify = await scrape(platform.endpoints.metrics.notify);
  const { incidents: listed } = await api<{ incidents: ListedIncident[] }>(platform, '/incidents?limit=1000');
  const eventsOfSignal = await signalEvents(platform.dataDir);
  const incidents: IncidentView[] = [];
  for (const item of listed) {
    const detail = await api<IncidentDetail>(platform, `/incidents/${encodeURIComponent(item.id)}`);
    const eventIds = detail.signals.flatMap((s) => [...(eventsOfSignal.get(s.id) ?? [])]);
    incidents.push({
      id: item.id,
      status: item.status,
      createdAtMs: item.createdAt,
      traceId: item.traceId,
      eventIds,
      proposals: detail.proposals.length,
      verdict: item.verdict ?? null,
    });
  }
  const logs = new Map<string, string>();
  for (const [agent, file] of Object.entries(platform.endpoints.logs)) {
    logs.set(agent, await readFile(file, 'utf8').catch(() => ''));
  }
  const traceCheck = checkTraces(
    logs,
    incidents.map((i) => ({
      id: i.id,
      traceId: i.traceId,
      // Every incident goes detect → coordinator → analyse; one with proposals also through remediate and notify.
      agents: ['detect', 'coordinator', 'analyse', ...(i.proposals > 0 ? ['remediate', 'notify'] : [])],
    })),
  );
  const agentFailures = [...platform.crashes()].map(
    ([agent, n]: [AgentName, number]) => `${agent} exited unexpectedly ${n} time(s)`,
  );
  return buildPlatformReport({
    events: summary.events,
    rejected: summary.rejected,
    forwarded: sumMetric(detect, 'falconer_events_forwarded_total'),
    signals: sumMetric(detect, 'falconer_signal_reports_total', { kind: 'opened' }),
    attacks: ledger.records(),
    incidents,
    notifications: sumMetric(notify, 'falconer_notifications_total', { outcome: 'delivered' }),
    traceCheck,
    agentFailures,
  });
}
