/**
 * Drives a running platform through a generated scenario and reports what it
 * did: replays the scenario into detect's ingest over HTTP, waits until the
 * pipeline settles (every accepted event scored, every signal delivered, no
 * incident mid-step), then joins the scenario's labels with the incidents
 * from the coordinator's API, the agents' metrics and their logs.
 */
import { readFile } from 'node:fs/promises';
import { createHttpTarget } from '../ingest/http-target.ts';
import { replayStream } from '../ingest/replay.ts';
import type { Platform } from '../platform/launch.ts';
import { AttackLedger } from './attack-ledger.ts';
import { buildPlatformReport, type IncidentView, type PlatformReport } from './platform-report.ts';
import {
  hitlGet,
  listIncidents,
  settle,
  signalEventIds,
  scrapeMetrics,
  type ListedIncident,
} from './platform-probe.ts';
import { sumMetric } from './prometheus-text.ts';
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

interface IncidentDetail {
  incident: ListedIncident;
  proposals: unknown[];
  signals: { id: string }[];
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
  await settle(platform, accepted, {
    timeoutMs: opts.settleTimeoutMs ?? 120_000,
    onProgress: opts.onProgress,
  });

  const detect = await scrapeMetrics(platform.endpoints.metrics.detect);
  const notify = await scrapeMetrics(platform.endpoints.metrics.notify);
  const listed = await listIncidents(platform);
  const eventsOfSignal = await signalEventIds(platform.dataDir);
  const incidents: IncidentView[] = [];
  for (const item of listed) {
    const detail = await hitlGet<IncidentDetail>(platform, `/incidents/${encodeURIComponent(item.id)}`);
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
    ([agent, n]) => `${agent} exited unexpectedly ${n} time(s)`,
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
