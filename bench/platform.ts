/**
 * End-to-end latency of the five-process platform (not a test): time from the
 * attack event that raised the detection (the one the gate forwarded) entering
 * the ingest to the first webhook notification of the incident that contains
 * it, while a generated scenario is posted at --replay-rate events/s of wall
 * time (default 5,000) as background load by --concurrency senders of --batch
 * events per request, with the offline analyst. The time from the attack's
 * first event is recorded too (it adds the gate's detection delay, compressed
 * by the replay speed-up). The load is encoded before the platform starts and
 * sent without per-event work, as Falco nodes on other machines would send it. Also the resident memory of every agent idle (ready,
 * before the replay) and under that load (max of samples every 500 ms), and
 * each agent's CPU share over the replay, to see what dominates.
 *   node --import tsx bench/platform.ts [--minutes M] [--rate R] [--seed S | --seeds S1,S2,…] [--replay-rate E] [--out FILE] [--write]
 * With several seeds each runs on a fresh platform and the latency figures pool their attacks.
 * (--out writes the full result, per attack, elsewhere: for runs not fair enough to --write;
 * --keep leaves the platform's data directory, logs included.)
 * Attacks whose first event falls within the gate's warm-up (20,000 events, the
 * default) cannot be detected and are left out of the latency figures.
 * The breakdown splits first event → incident at the moment detect opened the
 * signal (its "signal opened" log line): before it is ingest + bus + gate,
 * after it the outbox, A2A and the coordinator. Detect's heap (used / total)
 * and external memory are sampled from its /metrics to see what its RSS is.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_NAMES, type AgentName } from '../src/agents/contracts.ts';
import { loadConfig } from '../src/config/load.ts';
import {
  hitlGet,
  listIncidents,
  scrapeMetrics,
  settle,
  signalEventIds,
  type ListedIncident,
} from '../src/demo/platform-probe.ts';
import { sumMetric } from '../src/demo/prometheus-text.ts';
import { createNormalizer } from '../src/events/normalize.ts';
import { launchPlatform, type Platform } from '../src/platform/launch.ts';
import { generateScenario } from '../src/scenario/generate.ts';
import { alertLine } from '../src/scenario/serialize.ts';
import { platformPorts } from '../test/support/platform-env.ts';
import { loadAverage, machineInfo } from './machine.ts';
import { hasFlag, numberFlag, stringFlag } from './args.ts';
import { pacedSend, type Body } from './paced-sender.ts';

// 240 min of event time at 50 alerts/s: 720,000 events, 72 attacks, 144 s of wall time at 5,000/s.
const MINUTES = numberFlag('--minutes', 240);
const RATE = numberFlag('--rate', 50);
/**
 * Scenario seeds, each replayed on a fresh platform, one after the other; the latency figures pool
 * their attacks (a p99 wants about a hundred samples: one scenario has about 33 attacks).
 */
const SEEDS = (stringFlag('--seeds') ?? String(numberFlag('--seed', 7)))
  .split(',')
  .map(Number)
  .filter((x) => Number.isInteger(x) && x > 0);
const REPLAY_RATE = numberFlag('--replay-rate', 5000);
/** Events per ingest request (Falco's http_output posts one; falcosidekick batches): 20 ms of load. */
const BATCH = numberFlag('--batch', 100);
/** Requests in flight at once: the load of several Falco nodes posting, not one client waiting on each answer. */
const CONCURRENCY = numberFlag('--concurrency', 4);
const WARMUP_EVENTS = 20_000;
const CLUSTER = 'bench';
const TARGET_P99_MS = 1000;

// ---------------------------------------------------------------- webhook receiver
interface Arrival {
  incidentId: string;
  kind: string;
  atMs: number;
}
async function webhookReceiver(): Promise<{ server: Server; url: string; arrivals: Arrival[] }> {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const atMs = Date.now(); // arrival of the request, before its body is read
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        const b = JSON.parse(body) as { kind?: string; incident?: { id?: string } };
        if (typeof b.incident?.id === 'string')
          arrivals.push({ incidentId: b.incident.id, kind: String(b.kind), atMs });
      } catch {
        // not a notification
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/hook`, arrivals };
}

// ---------------------------------------------------------------- scenario with attack lines
interface Attack {
  id: string;
  kind: string;
  firstLine: number;
  eventIds: Set<string>;
  firstSentMs: number | null;
}
const attacks = new Map<string, Attack>();
const attackByFirstLine = new Map<number, Attack>();
/** Every attack event's line, and the wall time the request carrying it started. */
const attackEventOfLine = new Map<number, string>();
const sentAtOfEvent = new Map<string, number>();

/**
 * The scenario as request bodies of BATCH lines, built before the platform starts, noting every
 * attack event's line and id. Falco runs on other machines: generating or validating the load during
 * the replay would take CPU from the agents.
 */
function scenarioBodies(seed: number): Body[] {
  const normalize = createNormalizer({ cluster: CLUSTER });
  const bodies: Body[] = [];
  let chunk: string[] = [];
  const flush = () => {
    bodies.push({
      bytes: Buffer.from(`${chunk.join('\n')}\n`),
      firstLine: bodies.length * BATCH + 1,
      lines: chunk.length,
    });
    chunk = [];
  };
  for (const { alert, label } of generateScenario({ seed, minutes: MINUTES, rate: RATE })) {
    if (label.label === 'attack' && label.attackId !== null) {
      let a = attacks.get(label.attackId);
      if (!a) {
        a = {
          id: label.attackId,
          kind: label.kind ?? 'unknown',
          firstLine: label.line,
          eventIds: new Set(),
          firstSentMs: null,
        };
        attacks.set(a.id, a);
        attackByFirstLine.set(label.line, a);
      }
      const eventId = normalize(alert).id;
      a.eventIds.add(eventId);
      attackEventOfLine.set(label.line, eventId);
    }
    chunk.push(alertLine(alert));
    if (chunk.length === BATCH) flush();
  }
  if (chunk.length > 0) flush();
  return bodies;
}

/** Stamps each attack's first event, and each attack event, with the wall time its request starts. */
function stamp(body: Body, now: number): void {
  for (let line = body.firstLine; line < body.firstLine + body.lines; line++) {
    const a = attackByFirstLine.get(line);
    if (a && a.firstSentMs === null) a.firstSentMs = now;
    const eventId = attackEventOfLine.get(line);
    if (eventId !== undefined && !sentAtOfEvent.has(eventId)) sentAtOfEvent.set(eventId, now);
  }
}

// ---------------------------------------------------------------- per-agent RSS and CPU from /proc
function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : null;
  } catch {
    return null;
  }
}
/** utime + stime in clock ticks (100/s on Linux). */
function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
const pids = (p: Platform) =>
  Object.fromEntries(AGENT_NAMES.map((n) => [n, p.supervisor.pid(n)])) as Record<
    AgentName,
    number | undefined
  >;

// ---------------------------------------------------------------- platform helpers
const pct = (sorted: number[], q: number): number | null =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99), max: s.at(-1) ?? null };
};
const round1 = (x: number | null) => (x === null ? null : Number(x.toFixed(1)));

// ---------------------------------------------------------------- latency figures
/** The notify kind of an incident dismissed as a false positive: it does not tell anyone of an attack. */
const DISMISSAL = 'incident.dismissed';
/** One attack's timings, as measured in a run (see perAttack below). */
interface AttackTimings {
  joinedOpenIncident: boolean;
  dismissedOnly: boolean;
  incidentId: string | null;
  msToIncident: number | null;
  msToNotification: number | null;
  msToSignalOpened: number | null;
  msToOpeningEventSent: number | null;
  msOpeningEventToSignal: number | null;
  msSignalToIncident: number | null;
  msForwardedEventToNotification: number | null;
}

/** The latency figures of the attacks measured (outside the gate's warm-up), of one run or of several pooled. */
function latencyFigures(measured: readonly AttackTimings[]) {
  const notified = measured.filter((a) => a.msToNotification !== null);
  // The headline counts from the attack event that raised the detection: the one the gate forwarded
  // (it opened the signal). Counting from the attack's first event adds the attack's own pacing — a
  // low-and-slow exfiltration's first steps look benign — compressed by the replay speed-up; that is
  // the gate's detection delay, reported apart. An attack that joined an open incident counts from its
  // first event.
  const fromDetected = (a: AttackTimings): number =>
    a.joinedOpenIncident ? a.msToNotification! : (a.msForwardedEventToNotification ?? a.msToNotification!);
  const newIncidents = notified.filter((a) => !a.joinedOpenIncident);
  const known = (pick: (a: AttackTimings) => number | null) =>
    stats(newIncidents.map(pick).filter((v): v is number => v !== null));
  return {
    attacks: {
      measured: measured.length,
      withIncident: measured.filter((a) => a.incidentId !== null).length,
      joinedOpenIncident: measured.filter((a) => a.joinedOpenIncident).length,
      /** Responders were told (a dismissal does not count). */
      notified: notified.length,
      /** Every incident holding the attack's events was dismissed as a false positive by the analyst. */
      dismissedAsFalsePositive: measured.filter((a) => a.dismissedOnly).length,
    },
    /** From the attack event that raised the detection (see fromDetected) to the notification. */
    latencyMs: stats(notified.map(fromDetected)),
    /** From the attack's first event, forwarded or not: adds the gate's detection delay at this replay speed. */
    latencyFromFirstAttackEventMs: stats(notified.map((a) => a.msToNotification!)),
    latencyNewIncidentsMs: stats(newIncidents.map((a) => a.msToNotification!)),
    breakdownMs: {
      firstEventToIncident: stats(notified.map((a) => a.msToIncident!)),
      incidentToNotification: stats(notified.map((a) => a.msToNotification! - a.msToIncident!)),
      /** New incidents only: ingest + bus + gate (detect opens the signal)… */
      firstEventToSignalOpened: known((a) => a.msToSignalOpened),
      /** …then the outbox, A2A and the coordinator's grouping (the incident row). */
      signalOpenedToIncident: known((a) => a.msSignalToIncident),
      /**
       * The first split again: from the attack's first event to the sending of the event that opened
       * its signal (the first one the gate found anomalous: replay speed × the attack's own pace, not
       * pipeline latency), and from that event's request to the signal (ingest + bus + gate).
       */
      firstEventToOpeningEventSent: known((a) => a.msToOpeningEventSent),
      openingEventToSignalOpened: known((a) => a.msOpeningEventToSignal),
    },
  };
}

// ---------------------------------------------------------------- run
/** One scenario on a fresh platform; the result of that run alone. */
async function runOnce(seed: number) {
  for (const m of [attacks, attackByFirstLine, attackEventOfLine, sentAtOfEvent]) m.clear();
  const dir = mkdtempSync(join(tmpdir(), 'falconer-bench-platform-'));
  const hook = await webhookReceiver();
  const ports = await platformPorts();
  Object.assign(process.env, ports.env); // this process computes the same config as the agents
  const configFile = join(dir, 'falconer.yaml');
  writeFileSync(
    configFile,
    [
      `cluster: ${CLUSTER}`,
      'notify:',
      '  sinks:',
      '    - kind: file',
      '      console: false',
      '    - kind: webhook',
      `      url: ${hook.url}`,
      '',
    ].join('\n'),
  );
  const config = loadConfig({ file: configFile, overrides: { dataDir: join(dir, 'data') } });
  const bodies = scenarioBodies(seed);
  const loadStart = loadavg();
  let platform: Platform | undefined;
  try {
    const launchStarted = Date.now();
    platform = await launchPlatform({ config, configFile, env: ports.env });
    const readyMs = Date.now() - launchStarted;
    process.stderr.write(`platform ready in ${readyMs} ms; idle sampling\n`);
    const p = platform;

    // Idle: ready, a few seconds to finish start-up work, then the mean of 4 samples.
    await new Promise((r) => setTimeout(r, 3_000));
    const idleSamples: Record<string, number[]> = {};
    for (let i = 0; i < 4; i++) {
      for (const [name, pid] of Object.entries(pids(p))) {
        const v = rssMb(pid);
        if (v !== null) (idleSamples[name] ??= []).push(v);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    // Cross-check with what the agents report about themselves.
    const idleReported: Record<string, number> = {};
    for (const name of AGENT_NAMES) {
      const m = await scrapeMetrics(p.endpoints.metrics[name]);
      idleReported[name] = sumMetric(m, 'falconer_process_resident_memory_bytes') / 2 ** 20;
    }

    // Under load: every 500 ms during the replay.
    const loadMax: Record<string, number> = {};
    const loadSum: Record<string, number> = {};
    let loadSampleCount = 0;
    const sampler = setInterval(() => {
      loadSampleCount++;
      for (const [name, pid] of Object.entries(pids(p))) {
        const v = rssMb(pid);
        if (v === null) continue;
        loadMax[name] = Math.max(loadMax[name] ?? 0, v);
        loadSum[name] = (loadSum[name] ?? 0) + v;
      }
    }, 500);
    // What detect's RSS is made of: V8 heap in use, heap reserved, memory outside the heap (buffers).
    const detectMemMax = {
      heapUsedMb: 0,
      heapTotalMb: 0,
      externalMb: 0,
      outboxDepth: 0,
      eventLoopLagMaxMs: 0,
    };
    let memScrape: Promise<void> = Promise.resolve();
    /** [seconds since the replay started, detect's backlog in events, longest event-loop stall in ms]. */
    const detectSeries: [number, number, number][] = [];
    const replayStarted = Date.now();
    const memSampler = setInterval(() => {
      memScrape = memScrape
        .then(async () => {
          const m = await scrapeMetrics(p.endpoints.metrics.detect);
          const mb = (name: string) => sumMetric(m, name) / 2 ** 20;
          detectMemMax.heapUsedMb = Math.max(
            detectMemMax.heapUsedMb,
            mb('falconer_nodejs_heap_size_used_bytes'),
          );
          detectMemMax.heapTotalMb = Math.max(
            detectMemMax.heapTotalMb,
            mb('falconer_nodejs_heap_size_total_bytes'),
          );
          detectMemMax.externalMb = Math.max(
            detectMemMax.externalMb,
            mb('falconer_nodejs_external_memory_bytes'),
          );
          detectMemMax.outboxDepth = Math.max(
            detectMemMax.outboxDepth,
            sumMetric(m, 'falconer_signal_outbox_depth'),
          );
          // Events accepted by the ingest but not yet gated: detect's backlog, once a second.
          const backlog =
            sumMetric(m, 'falconer_events_accepted_total') -
            sumMetric(m, 'falconer_events_scored_total') -
            sumMetric(m, 'falconer_gate_warmup_events_total');
          const lagMs = sumMetric(m, 'falconer_nodejs_eventloop_lag_max_seconds') * 1000;
          detectSeries.push([
            Math.round((Date.now() - replayStarted) / 100) / 10,
            backlog,
            Math.round(lagMs),
          ]);
          // Longest event-loop stall since the previous scrape (prom-client resets it on every scrape).
          detectMemMax.eventLoopLagMaxMs = Math.max(detectMemMax.eventLoopLagMaxMs, lagMs);
        })
        .catch(() => undefined);
    }, 1_000);
    const ticksBefore = Object.fromEntries(AGENT_NAMES.map((n) => [n, cpuTicks(p.supervisor.pid(n))]));
    const replayLoad = loadavg();
    const benchCpuBefore = process.cpuUsage();
    process.stderr.write(
      `replaying ${MINUTES} min × ${RATE}/s of event time at ${REPLAY_RATE} events/s of wall time\n`,
    );
    const summary = await pacedSend({
      url: p.endpoints.ingest,
      bodies,
      rate: REPLAY_RATE,
      concurrency: CONCURRENCY,
      onSend: stamp,
      onProgress: (accepted, seconds) =>
        process.stderr.write(`  ${accepted} accepted in ${seconds.toFixed(0)} s\n`),
    });
    const benchCpu = process.cpuUsage(benchCpuBefore);
    clearInterval(sampler);
    clearInterval(memSampler);
    await memScrape;
    const ticksAfter = Object.fromEntries(AGENT_NAMES.map((n) => [n, cpuTicks(p.supervisor.pid(n))]));
    process.stderr.write(
      `replayed ${summary.events} events in ${summary.seconds.toFixed(1)} s (${summary.eventsPerSecond}/s); settling\n`,
    );
    const settleMs = await settle(p, summary.accepted);

    // Join: incident → its signals' event ids → attacks; incident → first webhook arrival.
    const detect = await scrapeMetrics(p.endpoints.metrics.detect);
    const notify = await scrapeMetrics(p.endpoints.metrics.notify);
    const incidents = await listIncidents(p);
    const eventsOfSignal = await signalEventIds(p.dataDir);
    // When detect opened each signal (wall time of its log line).
    const signalOpenedAt = new Map<string, number>();
    for (const line of readFileSync(p.endpoints.logs.detect, 'utf8').split('\n')) {
      if (!line.includes('"signal opened"')) continue;
      try {
        const rec = JSON.parse(line) as { time?: number; signalId?: string };
        if (typeof rec.signalId === 'string' && typeof rec.time === 'number')
          signalOpenedAt.set(rec.signalId, rec.time);
      } catch {
        // a line cut by the rotation or still being written
      }
    }
    /** The first signal holding one of the attack's events: when detect opened it, and the event that opened it. */
    const openingOf = (ids: Set<string>): { at: number; eventId: string } | undefined => {
      let best: { at: number; eventId: string } | undefined;
      for (const [signalId, events] of eventsOfSignal) {
        const at = signalOpenedAt.get(signalId);
        if (at === undefined || (best !== undefined && at >= best.at)) continue;
        for (const e of ids)
          if (events.has(e)) {
            best = { at, eventId: signalId.replace(/^sig_/, '') };
            break;
          }
      }
      return best;
    };
    /** Every incident that received the event (a signal's later events can go to a follow-up incident). */
    const incidentsOfEvent = new Map<string, ListedIncident[]>();
    /** Each incident's transitions as [status, ms since the incident was created]: where its time went. */
    const stepsOf = new Map<string, [string, number][]>();
    for (const item of incidents) {
      const detail = await hitlGet<{
        signals: { id: string; eventIds: string[] }[];
        timeline: { to: string; at: number }[];
      }>(p, `/incidents/${encodeURIComponent(item.id)}`);
      stepsOf.set(
        item.id,
        detail.timeline.map((t) => [t.to, t.at - item.createdAt]),
      );
      // The events the incident received: a signal's later events that went to a follow-up incident
      // (the first one was closed by then) belong to the follow-up too.
      for (const s of detail.signals)
        for (const e of s.eventIds) {
          const list = incidentsOfEvent.get(e) ?? [];
          if (!list.includes(item)) list.push(item);
          incidentsOfEvent.set(e, list);
        }
    }
    const arrivalsOf = new Map<string, Arrival[]>();
    for (const a of hook.arrivals) {
      const list = arrivalsOf.get(a.incidentId) ?? [];
      list.push(a);
      arrivalsOf.set(a.incidentId, list);
    }
    // The first notification that tells responders of the attack: of any incident holding its events,
    // sent after the attack began (an attack on a workload whose incident is still open joins it, and
    // that incident's earlier cards predate it). A dismissal does not: it tells them to look away.
    const notificationAfter = (incidentIds: readonly string[], sentMs: number): Arrival | undefined =>
      incidentIds
        .flatMap((id) => arrivalsOf.get(id) ?? [])
        .filter((a) => a.atMs >= sentMs && a.kind !== DISMISSAL)
        .sort((x, y) => x.atMs - y.atMs)[0];

    const perAttack = [...attacks.values()].map((a) => {
      const holding = new Set<ListedIncident>();
      for (const e of a.eventIds) for (const i of incidentsOfEvent.get(e) ?? []) holding.add(i);
      const byAge = [...holding].sort((x, y) => x.createdAt - y.createdAt);
      const incident = byAge[0];
      const sent = a.firstSentMs;
      const arrival =
        sent !== null
          ? notificationAfter(
              byAge.map((i) => i.id),
              sent,
            )
          : undefined;
      const opening = openingOf(a.eventIds);
      const openedAt = opening?.at;
      // The gate forwards the first event of the attack it finds anomalous, not always the first one.
      // A signal opened by another attack's event on the same workload says nothing of this one's.
      const openerSentAt =
        opening && a.eventIds.has(opening.eventId) ? sentAtOfEvent.get(opening.eventId) : undefined;
      return {
        attackId: a.id,
        kind: a.kind,
        firstLine: a.firstLine,
        inWarmup: a.firstLine <= WARMUP_EVENTS,
        incidentId: incident?.id ?? null,
        incidentStatus: incident?.status ?? null,
        joinedOpenIncident: incident !== undefined && sent !== null && incident.createdAt < sent,
        notificationKind: arrival?.kind ?? null,
        /** The incident whose notification counted (a follow-up when the first was dismissed). */
        notifiedIncidentId: arrival?.incidentId ?? null,
        /** Every incident holding the attack's events was dismissed as a false positive. */
        dismissedOnly: byAge.length > 0 && byAge.every((i) => i.status === 'dismissed'),
        incidents: byAge.length,
        msToIncident: incident && sent !== null ? Math.max(0, incident.createdAt - sent) : null,
        msToNotification: arrival && sent !== null ? arrival.atMs - sent : null,
        msToSignalOpened: openedAt !== undefined && sent !== null ? Math.max(0, openedAt - sent) : null,
        msToOpeningEventSent:
          openerSentAt !== undefined && sent !== null ? Math.max(0, openerSentAt - sent) : null,
        msOpeningEventToSignal:
          openerSentAt !== undefined && openedAt !== undefined ? Math.max(0, openedAt - openerSentAt) : null,
        msSignalToIncident:
          openedAt !== undefined && incident ? Math.max(0, incident.createdAt - openedAt) : null,
        /** The measure: from the attack event that raised the signal (the one the gate forwarded) to the notification. */
        msForwardedEventToNotification:
          arrival && openerSentAt !== undefined ? Math.max(0, arrival.atMs - openerSentAt) : null,
        incidentSteps: incident ? (stepsOf.get(incident.id) ?? []) : [],
      };
    });
    const measured = perAttack.filter((a) => !a.inWarmup);
    const figures = latencyFigures(measured);
    const retrainCount = sumMetric(detect, 'falconer_gate_retrain_duration_seconds_count');
    const retrainSeconds = sumMetric(detect, 'falconer_gate_retrain_duration_seconds_sum');

    const agents = Object.fromEntries(
      AGENT_NAMES.map((n) => {
        const idle = idleSamples[n] ?? [];
        const idleMean = idle.length ? idle.reduce((x, y) => x + y, 0) / idle.length : null;
        return [
          n,
          {
            rssIdleMb: round1(idleMean),
            rssIdleReportedMb: round1(idleReported[n] ?? null),
            rssUnderLoadMaxMb: round1(loadMax[n] ?? null),
            rssUnderLoadMeanMb: round1(loadSampleCount ? (loadSum[n] ?? 0) / loadSampleCount : null),
            cpuShareDuringReplay: Number(
              ((ticksAfter[n]! - ticksBefore[n]!) / 100 / Math.max(summary.seconds, 1e-9)).toFixed(3),
            ),
          },
        ];
      }),
    );

    const result = {
      benchmark: 'platform',
      description:
        'Five agents as separate processes on loopback (mTLS A2A), offline analyst, webhook sink to a local receiver; ' +
        'latency = first webhook notification, a dismissal excepted, of any incident holding an attack event − wall time the request carrying the attack event the gate forwarded started (the attack’s first event for an attack that joined an open incident)',
      scenario: {
        seed,
        minutes: MINUTES,
        rate: RATE,
        replayRate: REPLAY_RATE,
        batch: BATCH,
        concurrency: CONCURRENCY,
        gateWarmupEvents: WARMUP_EVENTS,
      },
      replay: {
        events: summary.events,
        accepted: summary.accepted,
        rejected: summary.rejected,
        seconds: Number(summary.seconds.toFixed(1)),
        eventsPerSecond: summary.eventsPerSecond,
        settleMs,
        retries: summary.retries,
        requestMs: stats(summary.requestMs),
        /** CPU this process (the load generator: read, validate, send) used, in cores. */
        loadGeneratorCpuShare: Number(
          ((benchCpu.user + benchCpu.system) / 1e6 / Math.max(summary.seconds, 1e-9)).toFixed(3),
        ),
        answers: summary.answers,
      },
      platform: {
        readyMs,
        forwarded: sumMetric(detect, 'falconer_events_forwarded_total'),
        signals: sumMetric(detect, 'falconer_signal_reports_total', { kind: 'opened' }),
        incidents: incidents.length,
        notificationsDelivered: sumMetric(notify, 'falconer_notifications_total', { outcome: 'delivered' }),
        webhookArrivals: hook.arrivals.length,
        crashes: Object.fromEntries(p.crashes()),
      },
      attacks: { total: perAttack.length, inWarmup: perAttack.length - measured.length, ...figures.attacks },
      latencyMs: figures.latencyMs,
      latencyFromFirstAttackEventMs: figures.latencyFromFirstAttackEventMs,
      latencyNewIncidentsMs: figures.latencyNewIncidentsMs,
      breakdownMs: figures.breakdownMs,
      gateRetrains: {
        count: retrainCount,
        meanMs: retrainCount > 0 ? Math.round((retrainSeconds / retrainCount) * 1000) : null,
      },
      detectMemoryMaxMb: {
        heapUsed: round1(detectMemMax.heapUsedMb),
        heapTotal: round1(detectMemMax.heapTotalMb),
        external: round1(detectMemMax.externalMb),
        outboxDepthMax: detectMemMax.outboxDepth,
      },
      /** What stalls detect's event loop: its longest stall, and V8's garbage-collection pauses by kind. */
      detectStalls: {
        eventLoopLagMaxMs: Math.round(detectMemMax.eventLoopLagMaxMs),
        backlogMaxEvents: Math.max(0, ...detectSeries.map(([, b]) => b)),
        /** Once a second: [s since the replay started, backlog (events), longest stall (ms)]. */
        series: detectSeries,
        gc: Object.fromEntries(
          ['major', 'minor', 'incremental', 'weakcb'].map((kind) => [
            kind,
            {
              count: sumMetric(detect, 'falconer_nodejs_gc_duration_seconds_count', { kind }),
              totalMs: Math.round(
                sumMetric(detect, 'falconer_nodejs_gc_duration_seconds_sum', { kind }) * 1000,
              ),
            },
          ]),
        ),
      },
      targets: {
        p99UnderOneSecond: figures.latencyMs.p99 !== null && figures.latencyMs.p99 < TARGET_P99_MS,
        p99LimitMs: TARGET_P99_MS,
      },
      agents,
      perAttack: measured,
      machine: {
        ...machineInfo(),
        loadAverageStart: loadAverage(loadStart),
        loadAverageAtReplay: loadAverage(replayLoad),
        loadAverageEnd: loadAverage(),
      },
      date: new Date().toISOString(),
      commit: execSync('git rev-parse --short HEAD', { encoding: 'utf8' }).trim(),
    };
    return result;
  } finally {
    await platform?.stop();
    hook.server.close();
    // --keep leaves the data directory (agents' logs, incidents, audit) for a look afterwards.
    if (hasFlag('--keep')) process.stderr.write(`kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- main
type Run = Awaited<ReturnType<typeof runOnce>>;
const runs: Run[] = [];
for (const seed of SEEDS) {
  process.stderr.write(`seed ${seed}\n`);
  runs.push(await runOnce(seed));
}
const result = runs.length === 1 ? runs[0]! : pooled(runs);
console.log(JSON.stringify({ ...result, perAttack: `${result.perAttack.length} attacks` }, null, 2));
const out = stringFlag('--out');
if (out !== undefined) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
if (hasFlag('--write')) {
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/platform.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
}

/**
 * Several seeds as one result: latency figures over every measured attack of every run; each
 * run's own figures under `runs`; per agent the largest RSS and the mean CPU share.
 */
function pooled(all: Run[]) {
  const first = all[0]!;
  const perAttack = all.flatMap((r) => r.perAttack.map((a) => ({ seed: r.scenario.seed, ...a })));
  const figures = latencyFigures(perAttack);
  const sum = (pick: (r: Run) => number) => all.reduce((n, r) => n + pick(r), 0);
  const agents = Object.fromEntries(
    AGENT_NAMES.map((n) => {
      const of = all.map((r) => r.agents[n]!);
      const max = (xs: (number | null)[]) => Math.max(...xs.map((x) => x ?? 0));
      return [
        n,
        {
          rssIdleMb: max(of.map((a) => a.rssIdleMb)),
          rssIdleReportedMb: max(of.map((a) => a.rssIdleReportedMb)),
          rssUnderLoadMaxMb: max(of.map((a) => a.rssUnderLoadMaxMb)),
          rssUnderLoadMeanMb: round1(of.reduce((x, a) => x + (a.rssUnderLoadMeanMb ?? 0), 0) / of.length),
          cpuShareDuringReplay: Number(
            (of.reduce((x, a) => x + a.cpuShareDuringReplay, 0) / of.length).toFixed(3),
          ),
        },
      ];
    }),
  );
  return {
    ...first,
    scenario: { ...first.scenario, seed: undefined, seeds: all.map((r) => r.scenario.seed) },
    replay: {
      ...first.replay,
      events: sum((r) => r.replay.events),
      accepted: sum((r) => r.replay.accepted),
      rejected: sum((r) => r.replay.rejected),
      seconds: Number(sum((r) => r.replay.seconds).toFixed(1)),
      eventsPerSecond: Math.min(...all.map((r) => r.replay.eventsPerSecond)),
      retries: sum((r) => r.replay.retries),
      loadGeneratorCpuShare: Math.max(...all.map((r) => r.replay.loadGeneratorCpuShare)),
    },
    attacks: {
      total: sum((r) => r.attacks.total),
      inWarmup: sum((r) => r.attacks.inWarmup),
      ...figures.attacks,
    },
    latencyMs: figures.latencyMs,
    latencyFromFirstAttackEventMs: figures.latencyFromFirstAttackEventMs,
    latencyNewIncidentsMs: figures.latencyNewIncidentsMs,
    breakdownMs: figures.breakdownMs,
    detectStalls: {
      eventLoopLagMaxMs: Math.max(...all.map((r) => r.detectStalls.eventLoopLagMaxMs)),
      backlogMaxEvents: Math.max(...all.map((r) => r.detectStalls.backlogMaxEvents)),
    },
    targets: {
      p99UnderOneSecond: figures.latencyMs.p99 !== null && figures.latencyMs.p99 < TARGET_P99_MS,
      p99LimitMs: TARGET_P99_MS,
    },
    agents,
    /** Each seed's run on its own (its per-attack rows are in perAttack, tagged with the seed). */
    runs: all.map((r) => ({
      seed: r.scenario.seed,
      replay: r.replay,
      platform: r.platform,
      attacks: r.attacks,
      latencyMs: r.latencyMs,
      latencyFromFirstAttackEventMs: r.latencyFromFirstAttackEventMs,
      breakdownMs: r.breakdownMs,
      gateRetrains: r.gateRetrains,
      detectStalls: { ...r.detectStalls, series: undefined },
      machine: r.machine,
    })),
    perAttack,
    machine: { ...first.machine, loadAverageEnd: all.at(-1)!.machine.loadAverageEnd },
  };
}
