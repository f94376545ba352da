/**
 * The offline analyst: a deterministic verdict on an incident from its events,
 * with no LLM. It scores evidence the way an analyst would:
 *
 *  - each rule that fired has a prior (attack-knowledge.ts); each field
 *    indicator (indicators.ts) adds what the command line, file or API user
 *    shows; known-benign patterns explain events away;
 *  - distinct findings combine as independent evidence (noisy-OR:
 *    1 − Π(1 − wᵢ)), so twenty copies of one weak alert stay weak while several
 *    different strong ones add up;
 *  - progression along the kill chain (execution → credential access →
 *    exfiltration…) and the gate's anomaly score move the result;
 *  - verdict: true_positive at ≥ 0.8, false_positive when little is left once
 *    benign patterns are removed, needs_review in between.
 *
 * Same input, same output. Attacker-controlled text in the explanation is
 * truncated and escaped (quote.ts); only ids from the input are cited.
 */
import type {
  ActionKind,
  AnalyseInput,
  AnalysisResult,
  EventWire,
  Severity,
  Technique,
} from '../contracts.ts';
import {
  priorWeight,
  RULE_KNOWLEDGE,
  TACTIC_NAMES,
  TACTICS,
  tacticOfTag,
  TECHNIQUES,
  type Tactic,
} from './attack-knowledge.ts';
import { BENIGN_PATTERNS, field, INDICATORS, isInternalIp, personSession, remotePeer } from './indicators.ts';
import { isSafeId, quote } from './quote.ts';

export const TRUE_POSITIVE_THRESHOLD = 0.8;
export const FALSE_POSITIVE_THRESHOLD = 0.35;
/** Indicators at least this strong count even on an event a benign pattern explains. */
const STRONG_INDICATOR = 0.6;
const MAX_FINDINGS_SHOWN = 12;
const MAX_TECHNIQUES = 20;
const MAX_CITED = 30;

interface Finding {
  readonly key: string;
  weight: number;
  readonly techniques: Set<string>;
  readonly tactics: Set<Tactic>;
  readonly meaning: string;
  readonly title: string;
  /** First event (by time) that showed it, and how many did. */
  first: EventWire;
  count: number;
  readonly evidence?: string;
}

interface Evidence {
  readonly findings: Map<string, Finding>;
  readonly benign: Map<string, { reason: string; count: number; first: EventWire }>;
  benignEvents: number;
}

function addFinding(
  ev: Evidence,
  key: string,
  event: EventWire,
  init: () => Omit<Finding, 'first' | 'count' | 'key'>,
): void {
  const f = ev.findings.get(key);
  if (f !== undefined) {
    f.count++;
    if (event.timeMs < f.first.timeMs) f.first = event;
    return;
  }
  ev.findings.set(key, { key, first: event, count: 1, ...init() });
}

function tacticsOf(techniques: Iterable<string>, tags: readonly string[]): Set<Tactic> {
  const out = new Set<Tactic>();
  for (const t of techniques) {
    const info = TECHNIQUES[t];
    if (info !== undefined) out.add(info.tactic);
  }
  for (const tag of tags) {
    const t = tacticOfTag(tag);
    if (t !== undefined) out.add(t);
  }
  return out;
}

const TECHNIQUE_TAG = /^T\d{4}(\.\d{3})?$/;

function ruleFinding(ev: Evidence, event: EventWire): void {
  const known = RULE_KNOWLEDGE[event.rule];
  const techniques = new Set<string>([
    ...(known?.techniques ?? []),
    ...event.tags.filter((t) => TECHNIQUE_TAG.test(t)),
  ]);
  addFinding(ev, `rule:${event.rule}`, event, () => ({
    weight: known?.weight ?? priorWeight(event.priorityLevel),
    techniques,
    tactics: tacticsOf(techniques, event.tags),
    meaning: known?.meaning ?? `Falco rule (${event.priority})`,
    title: `${quote(event.rule, 100)} (${event.priority})`,
    evidence: summaryField(event),
  }));
}

/** The one field that says most about what happened, quoted. */
function summaryField(event: EventWire): string | undefined {
  for (const key of ['proc.cmdline', 'fd.name', 'ka.user.name', 'ka.target.name']) {
    const v = field(event, key);
    if (v !== '') return `${key}=${quote(v)}`;
  }
  return undefined;
}

function collect(events: readonly EventWire[]): Evidence {
  const ev: Evidence = { findings: new Map(), benign: new Map(), benignEvents: 0 };
  for (const event of events) {
    const benign = BENIGN_PATTERNS.find((p) => p.test(event));
    if (benign !== undefined) {
      ev.benignEvents++;
      const b = ev.benign.get(benign.id);
      if (b === undefined) ev.benign.set(benign.id, { reason: benign.reason, count: 1, first: event });
      else b.count++;
    } else {
      ruleFinding(ev, event);
    }
    for (const indicator of INDICATORS) {
      if (benign !== undefined && indicator.weight < STRONG_INDICATOR) continue;
      if (!indicator.test(event)) continue;
      addFinding(ev, `ind:${indicator.id}`, event, () => ({
        weight: indicator.weight,
        techniques: new Set(indicator.techniques),
        tactics: tacticsOf(indicator.techniques, []),
        meaning: indicator.meaning,
        title: `Indicator ${indicator.id}`,
        evidence: `${indicator.evidenceField}=${quote(field(event, indicator.evidenceField))}`,
      }));
    }
  }
  beaconing(ev, events);
  return ev;
}

const CONNECTION_RULES = new Set([
  'Interpreted procs outbound network activity',
  'Network Connection outside Local Subnet',
  'Unexpected UDP Traffic',
  'Outbound Connection to C2 Servers',
]);

/**
 * Repeated connections from one process to one public peer on a non-web port:
 * a C2 channel's beacons; sustained, the data going out over it.
 */
function beaconing(ev: Evidence, events: readonly EventWire[]): void {
  const peers = new Map<string, { times: Set<number>; first: EventWire; proc: string; peer: string }>();
  for (const event of events) {
    if (!CONNECTION_RULES.has(event.rule)) continue;
    const peer = remotePeer(event);
    if (peer === undefined || isInternalIp(peer.ip) || [80, 443, 53].includes(peer.port)) continue;
    const proc = field(event, 'proc.name');
    const key = `${proc}\u0000${peer.ip}:${peer.port}`;
    const p = peers.get(key);
    // Several rules fire on one connection: count distinct instants, not alerts.
    if (p === undefined)
      peers.set(key, { times: new Set([event.timeMs]), first: event, proc, peer: `${peer.ip}:${peer.port}` });
    else p.times.add(event.timeMs);
  }
  for (const p of peers.values()) {
    const n = p.times.size;
    const evidence = `process ${quote(p.proc, 60)} → ${quote(p.peer, 60)}, ${n} connections`;
    if (n >= 3) {
      addFinding(ev, `beacon:${p.peer}`, p.first, () => ({
        weight: 0.55,
        techniques: new Set(['T1071']),
        tactics: new Set<Tactic>(['command_and_control']),
        meaning: 'repeated connections to one public address on a non-web port (C2 beaconing)',
        title: 'Indicator beaconing',
        evidence,
      }));
    }
    if (n >= 5) {
      addFinding(ev, `c2-exfil:${p.peer}`, p.first, () => ({
        weight: 0.4,
        techniques: new Set(['T1041']),
        tactics: new Set<Tactic>(['exfiltration']),
        meaning: 'sustained traffic to the same C2 peer (data leaving over the C2 channel)',
        title: 'Indicator c2-transfer',
        evidence,
      }));
    }
  }
}

interface Score {
  readonly malice: number;
  readonly chain: Tactic[];
  readonly gateScore: number | undefined;
}

function score(findings: readonly Finding[], gateScore: number | undefined): Score {
  let notMalicious = 1;
  const stages = new Set<Tactic>();
  for (const f of findings) {
    notMalicious *= 1 - Math.min(0.99, Math.max(0, f.weight));
    // Weak findings (root containers, service traffic) do not make a kill chain.
    if (f.weight >= 0.3) for (const t of f.tactics) stages.add(t);
  }
  const chain = TACTICS.filter((t) => stages.has(t));
  // Progression through the kill chain: distinct stages are independent corroboration.
  if (chain.length >= 4) notMalicious *= 0.6;
  else if (chain.length === 3) notMalicious *= 0.75;
  else if (chain.length === 2) notMalicious *= 0.9;
  // The gate only says "unusual": a nudge, never the decision.
  if (gateScore !== undefined) {
    if (gateScore >= 0.8) notMalicious *= 0.9;
    else if (gateScore < 0.3) notMalicious = 1 - (1 - notMalicious) * 0.9;
  }
  return { malice: round(1 - notMalicious), chain, gateScore };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function verdictOf(
  malice: number,
  benignShare: number,
): { verdict: AnalysisResult['verdict']; confidence: number } {
  if (malice >= TRUE_POSITIVE_THRESHOLD)
    return { verdict: 'true_positive', confidence: round(Math.min(0.99, malice)) };
  if (malice < FALSE_POSITIVE_THRESHOLD && (benignShare >= 0.5 || malice < 0.2)) {
    return {
      verdict: 'false_positive',
      confidence: round(Math.min(0.95, (1 - malice) * (0.7 + 0.3 * benignShare))),
    };
  }
  // In between: how sure we are that a human must look (closest to the middle = least sure either way).
  return { verdict: 'needs_review', confidence: round(0.5 + Math.abs(malice - 0.575) / 2) };
}

const SEVERE_TACTICS: readonly Tactic[] = [
  'impact',
  'exfiltration',
  'privilege_escalation',
  'credential_access',
  'lateral_movement',
];

function severityOf(
  verdict: AnalysisResult['verdict'],
  malice: number,
  chain: readonly Tactic[],
  maxPriority: number,
): Severity {
  if (verdict === 'true_positive') {
    if (malice >= 0.9 && (chain.some((t) => SEVERE_TACTICS.includes(t)) || maxPriority <= 2))
      return 'critical';
    return 'high';
  }
  if (verdict === 'needs_review') return malice >= 0.5 ? 'medium' : 'low';
  return 'low';
}

function techniquesOf(findings: readonly Finding[]): Technique[] {
  const best = new Map<string, number>();
  for (const f of findings) for (const t of f.techniques) best.set(t, Math.max(best.get(t) ?? 0, f.weight));
  return [...best]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_TECHNIQUES)
    .map(([id]) => {
      const info = TECHNIQUES[id] ?? TECHNIQUES[id.slice(0, 5)];
      const sub = TECHNIQUES[id] === undefined && info !== undefined;
      return {
        id,
        name:
          info === undefined
            ? `ATT&CK technique ${id}`
            : sub
              ? `${info.name} (sub-technique ${id})`
              : info.name,
        tactic: info === undefined ? 'Unknown' : TACTIC_NAMES[info.tactic],
      };
    });
}

function actionsOf(
  verdict: AnalysisResult['verdict'],
  techniques: ReadonlySet<string>,
  chain: readonly Tactic[],
  findings: readonly Finding[],
  isPod: boolean,
): ActionKind[] {
  const actions: ActionKind[] = [isPod ? 'label-pod' : 'emit-event'];
  if (verdict === 'false_positive') return actions;
  if (verdict === 'needs_review') return isPod ? [...actions, 'annotate-pod'] : actions;
  // Pod actions need a pod: a host or bare container gets a Kubernetes Event for the people on call.
  if (!isPod) return actions;
  const has = (...ids: string[]): boolean => ids.some((id) => techniques.has(id));
  const networkThreat =
    chain.includes('exfiltration') ||
    chain.includes('command_and_control') ||
    has('T1059.004', 'T1095', 'T1041', 'T1048', 'T1071');
  if (networkThreat || has('T1611', 'T1609', 'T1610', 'T1552.007', 'T1528', 'T1552.005'))
    actions.push('isolate-pod');
  if (has('T1496')) {
    actions.push('delete-pod');
    // The miner came with the image (no drift, no download): the image itself is malicious.
    const dropped = findings.some((f) =>
      /Drop and execute|Drift|Ingress Remote File Copy|download/.test(f.title + f.key),
    );
    if (!dropped) actions.push('block-image');
  }
  actions.push('annotate-pod', 'emit-event');
  return actions.slice(0, 10);
}

function describeWorkload(input: AnalyseInput): string {
  const w = input.incident.workload;
  const parts = [`${w.kind} ${quote(w.key, 160)}`];
  if (w.image !== undefined) parts.push(`image ${quote(w.image, 120)}`);
  return parts.join(', ');
}

function cite(event: EventWire, cited: Set<string>): string {
  if (!isSafeId(event.id)) return '[event with an unprintable id]';
  if (cited.size < MAX_CITED) cited.add(event.id);
  return cited.has(event.id) ? `[event ${event.id}]` : '[event]';
}

/**
 * The newest prior incident (see AnalyseInput.prior) judged a true positive or needing review that
 * fired one of the rules these events fire, with the rules shared.
 */
function echoOf(
  prior: AnalyseInput['prior'],
  events: readonly EventWire[],
): { prior: NonNullable<AnalyseInput['prior']>[number]; rules: string[] } | undefined {
  const fired = new Set(events.map((e) => e.rule));
  for (const p of prior ?? []) {
    if (p.verdict !== 'true_positive' && p.verdict !== 'needs_review') continue;
    const rules = p.rules.filter((r) => fired.has(r));
    if (rules.length > 0) return { prior: p, rules: rules.slice(0, 3) };
  }
  return undefined;
}

/** The deterministic analysis of an incident. */
export function analyseOffline(input: AnalyseInput): AnalysisResult {
  const events = [...input.events].sort(
    (a, b) => a.timeMs - b.timeMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const evidence = collect(events);
  const findings = [...evidence.findings.values()].sort(
    (a, b) => b.weight - a.weight || a.first.timeMs - b.first.timeMs || (a.key < b.key ? -1 : 1),
  );
  const gateScores = input.incident.signals.map((s) => s.maxScore);
  const gateScore = gateScores.length > 0 ? Math.max(...gateScores) : undefined;
  const { malice, chain } = score(findings, gateScore);
  const benignShare = events.length === 0 ? 0 : evidence.benignEvents / events.length;
  let { verdict, confidence } =
    events.length === 0
      ? { verdict: 'needs_review' as const, confidence: 0.5 }
      : verdictOf(malice, benignShare);
  // Hands-on work by a person who exec-ed in looks like an attack made of weak signals
  // (shell, id, curl, apt-get): without one strong indicator, a human decides.
  const session = events.find(personSession);
  const strongest = findings[0]?.weight ?? 0;
  const operatorCapped = session !== undefined && strongest < STRONG_INDICATOR && verdict === 'true_positive';
  if (operatorCapped) ({ verdict, confidence } = { verdict: 'needs_review', confidence: 0.6 });
  // What a human was just asked to look at, happening again on the workload, is not dismissed.
  const echo = verdict === 'false_positive' ? echoOf(input.prior, events) : undefined;
  if (echo !== undefined) ({ verdict, confidence } = { verdict: 'needs_review', confidence: 0.6 });
  const maxPriority = Math.min(8, ...events.map((e) => e.priorityLevel));
  const severity = severityOf(verdict, malice, chain, maxPriority);
  // Techniques from findings that carry weight (not from the background noise).
  const meaningful = findings.filter((f) => f.weight >= 0.1);
  const techniques = techniquesOf(meaningful);
  const techniqueIds = new Set(techniques.map((t) => t.id));
  const isPod = input.incident.workload.kind === 'pod' && input.incident.workload.pod !== undefined;
  const recommendedActions = actionsOf(verdict, techniqueIds, chain, findings, isPod);

  const cited = new Set<string>();
  const lines: string[] = [];
  lines.push(
    `Offline analyst (deterministic rules, no LLM): ${verdict.replace('_', ' ')}, confidence ${confidence.toFixed(2)}, severity ${severity}.`,
  );
  lines.push(
    `Workload: ${describeWorkload(input)}. ${events.length} event(s), ${evidence.findings.size} distinct finding(s), evidence score ${malice.toFixed(2)}${gateScore === undefined ? '' : `, gate anomaly score ${gateScore.toFixed(2)}`}.`,
  );
  if (chain.length > 0) lines.push(`Kill chain: ${chain.map((t) => TACTIC_NAMES[t]).join(' → ')}.`);
  if (findings.length > 0) lines.push('Evidence (strongest first):');
  for (const f of findings.slice(0, MAX_FINDINGS_SHOWN)) {
    const techs = [...f.techniques].filter((t) => techniqueIds.has(t)).join(', ');
    lines.push(
      `- ${cite(f.first, cited)} ${f.title}: ${f.meaning}${f.count > 1 ? ` (${f.count} events)` : ''}${techs === '' ? '' : `; ${techs}`}${f.evidence === undefined ? '' : `; ${f.evidence}`}.`,
    );
  }
  if (findings.length > MAX_FINDINGS_SHOWN)
    lines.push(`- … and ${findings.length - MAX_FINDINGS_SHOWN} weaker finding(s).`);
  if (echo !== undefined) {
    lines.push(
      `Context: the workload's incident ${isSafeId(echo.prior.id) ? echo.prior.id : '(unprintable id)'}, ${Math.round(echo.prior.msBefore / 1000)} s of event time before this one, was judged ${echo.prior.verdict?.replace('_', ' ')} on the same rule(s) (${echo.rules.map((r) => quote(r, 80)).join(', ')}): an echo of it is not dismissed, a human should decide (evidence alone would say false positive).`,
    );
  }
  if (operatorCapped && session !== undefined) {
    lines.push(
      `Context: ${cite(session, cited)} a person (${quote(field(session, 'ka.user.name'), 100)}) opened an interactive session in the pod and no finding is strong on its own: this may be hands-on maintenance, so a human should decide (score alone would say true positive).`,
    );
  }
  if (evidence.benign.size > 0) {
    lines.push(`Explained as known-benign (${evidence.benignEvents} event(s), not counted as evidence):`);
    for (const b of evidence.benign.values())
      lines.push(`- ${cite(b.first, cited)} ${b.reason} (${b.count} events).`);
  }
  if (techniques.length > 0)
    lines.push(
      `ATT&CK: ${techniques
        .slice(0, 8)
        .map((t) => `${t.id} ${t.name}`)
        .join('; ')}.`,
    );
  lines.push(`Recommended: ${recommendedActions.join(', ')}.`);
  lines.push('Quoted values are attacker-controlled event data, shown truncated and escaped.');
  let explanation = lines.join('\n');
  if (explanation.length > 8000) {
    explanation = explanation.slice(0, 7990);
    // Cited ids must appear in the text: keep only those that survived the cut.
    for (const id of [...cited]) if (!explanation.includes(`[event ${id}]`)) cited.delete(id);
    explanation += '\n…(cut)';
  }

  return {
    verdict,
    confidence,
    severity,
    techniques,
    explanation,
    citedEventIds: [...cited],
    recommendedActions,
    analyst: 'offline',
  };
}
