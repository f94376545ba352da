/**
 * The incident as prompt text: every attacker-writable value sanitized field
 * by field (invisible characters stripped, secrets redacted, truncated) and
 * each event fenced as untrusted data. Only ids that look like ids appear
 * outside a fence, so the model can cite them.
 */
import { sanitizeUntrusted, type Fencer } from '../../../llm/untrusted/index.ts';
import type { AnalyseInput, EventWire } from '../../contracts.ts';
import { isSafeId } from '../quote.ts';

export interface RenderLimits {
  /** Longest string value of one field. */
  maxFieldChars: number;
  /** Longest fenced event. */
  maxEventChars: number;
  /** At most this many events in the first message (the rest can be queried with tools). */
  maxEvents: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { maxFieldChars: 512, maxEventChars: 4000, maxEvents: 60 };

/** A JSON value with every string (keys included) sanitized; depth and width bounded. */
function clean(value: unknown, maxChars: number, depth = 0): unknown {
  if (typeof value === 'string') return sanitizeUntrusted(value, maxChars);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (depth > 4) return '[nested too deep]';
  if (Array.isArray(value)) return value.slice(0, 64).map((v) => clean(v, maxChars, depth + 1));
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>).slice(0, 200))
      out[sanitizeUntrusted(k, 128)] = clean(v, maxChars, depth + 1);
    return out;
  }
  return String(value);
}

/** Most severe first (lowest Falco priority level), then by time: what the model should read first. */
function ordered(events: readonly EventWire[]): EventWire[] {
  return [...events].sort((a, b) => a.priorityLevel - b.priorityLevel || a.timeMs - b.timeMs);
}

export function renderWorkload(input: AnalyseInput, fencer: Fencer): string {
  return fencer.fence('workload', JSON.stringify(clean(input.incident.workload, 256))) ?? '(omitted)';
}

export function renderIncident(input: AnalyseInput, fencer: Fencer): string {
  const inc = input.incident;
  const summary = {
    severity: inc.severity,
    status: inc.status,
    signals: inc.signals.slice(0, 10).map((s) => ({
      firstSeen: new Date(s.firstSeenMs).toISOString(),
      lastSeen: new Date(s.lastSeenMs).toISOString(),
      events: s.count,
      maxAnomalyScore: s.maxScore,
      rules: s.rules.slice(0, 20),
    })),
    // The workload's incidents closed just before this one, and how they were judged: an echo of
    // one a human was asked to look at is not to be dismissed lightly.
    ...(input.prior !== undefined &&
      input.prior.length > 0 && {
        priorIncidents: input.prior.map((p) => ({
          verdict: p.verdict ?? 'unknown',
          status: p.status,
          secondsBefore: Math.round(p.msBefore / 1000),
          rules: p.rules.slice(0, 20),
        })),
      }),
  };
  const head = isSafeId(inc.id) ? `Incident id: ${inc.id}\n` : '';
  return `${head}${fencer.fence('incident', JSON.stringify(clean(summary, 256))) ?? '(omitted)'}`;
}

/** The events, fenced one by one; says how many were left out (limit or data budget). */
export function renderEvents(input: AnalyseInput, fencer: Fencer, limits: RenderLimits): string {
  const parts: string[] = [];
  const events = ordered(input.events);
  let shown = 0;
  for (const [i, e] of events.entries()) {
    if (shown >= limits.maxEvents) break;
    const citable = isSafeId(e.id);
    const body = JSON.stringify(
      clean(
        {
          time: e.time,
          rule: e.rule,
          priority: e.priority,
          source: e.source,
          hostname: e.hostname,
          tags: e.tags,
          output: e.output,
          fields: e.fields,
        },
        limits.maxFieldChars,
      ),
    );
    const fenced = fencer.fence(citable ? `event:${e.id}` : `event-${i + 1}`, body, limits.maxEventChars);
    if (fenced === undefined) break;
    const title = citable
      ? `Event id=${e.id} (cite as [event ${e.id}])`
      : `Event #${i + 1} (its id is not citable)`;
    parts.push(`${title}\n${fenced}`);
    shown++;
  }
  if (shown < events.length)
    parts.push(
      `${events.length - shown} more event(s) not shown here (size limits); query them with the tools if needed.`,
    );
  return parts.join('\n\n');
}

/** The ids the model may cite from the input. */
export function citableInputIds(input: AnalyseInput): Set<string> {
  return new Set(input.events.map((e) => e.id).filter(isSafeId));
}

/** Fills `{{name}}` placeholders in one pass (inserted values are never re-expanded). */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, name: string) => values[name] ?? m);
}
