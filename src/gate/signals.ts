/**
 * Forwarded anomalies grouped per workload and time window into signals: the
 * unit the agents receive. A signal opens on its first forwarded event (so
 * the agents hear about it with the lowest latency) and is updated as more
 * events of the same workload join it; it closes after `windowMs` of event
 * time without a new event (or once it spans `maxSpanMs`), and closed signals
 * are evicted, so memory is bounded by `maxOpen` signals of bounded size.
 */
import { FalconerError } from '../errors.ts';
import type { NormalizedEvent, Workload } from '../events/types.ts';
import { behaviourOf } from './behaviour.ts';

export interface Signal {
  readonly id: string;
  readonly workload: Workload;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
  /** Ids of the first `maxEventIds` events, then of each later behaviour's first (count says how many joined). */
  readonly eventIds: readonly string[];
  readonly maxScore: number;
  /** Distinct rules, first `maxRules` of them. */
  readonly rules: readonly string[];
  /** Most severe Falco priority level seen (0 = Emergency). */
  readonly priorityLevel: number;
  readonly count: number;
  /**
   * Distinct behaviours of its events (see behaviourOf), first `maxBehaviours` of them; the first
   * event of each is among eventIds, even past `maxEventIds`. Optional: reports from before it lack it.
   */
  readonly behaviours?: readonly string[];
  /** The first event of each behaviour, in the same order. */
  readonly behaviourEventIds?: readonly string[];
}

export type SignalUpdateKind = 'opened' | 'updated';

export interface SignalUpdate {
  readonly kind: SignalUpdateKind;
  /** A snapshot: later events do not change it. */
  readonly signal: Signal;
}

export interface SignalOptions {
  /** Event-time gap after which a workload's signal closes (default 60 s). */
  windowMs?: number;
  /** A signal older than this (first to last event) closes and a new one opens (default 15 min). */
  maxSpanMs?: number;
  maxEventIds?: number;
  maxRules?: number;
  maxBehaviours?: number;
  /** Open signals held at most; beyond it the least recently updated is closed early. */
  maxOpen?: number;
}

export const DEFAULT_SIGNAL_OPTIONS: Readonly<Required<SignalOptions>> = Object.freeze({
  windowMs: 60_000,
  maxSpanMs: 15 * 60_000,
  maxEventIds: 100,
  maxRules: 32,
  maxBehaviours: 32,
  maxOpen: 10_000,
});

interface OpenSignal {
  id: string;
  workload: Workload;
  firstSeenMs: number;
  lastSeenMs: number;
  eventIds: string[];
  maxScore: number;
  rules: string[];
  priorityLevel: number;
  count: number;
  behaviours: string[];
  behaviourEventIds: string[];
}

function positive(name: string, v: number, integer: boolean): number {
  if (!(v > 0) || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new FalconerError(
      'CONFIG_INVALID',
      `signal option ${name} must be a positive ${integer ? 'integer' : 'number'}`,
      {
        [name]: v,
      },
    );
  }
  return v;
}

export class SignalGrouper {
  readonly options: Readonly<Required<SignalOptions>>;
  /** Insertion order = least recently updated first (updates re-insert), which makes expiry O(1) amortized. */
  private readonly open = new Map<string, OpenSignal>();
  private clockMs = -Infinity;
  /** lastSeenMs of the least recently updated open signal: nothing can expire before it does. */
  private frontLastSeenMs = Infinity;
  private opened = 0;
  private closed = 0;

  constructor(options: SignalOptions = {}) {
    const o = { ...DEFAULT_SIGNAL_OPTIONS };
    for (const [k, v] of Object.entries(options))
      if (v !== undefined) (o as Record<string, number>)[k] = v as number;
    positive('windowMs', o.windowMs, false);
    positive('maxSpanMs', o.maxSpanMs, false);
    positive('maxEventIds', o.maxEventIds, true);
    positive('maxRules', o.maxRules, true);
    positive('maxBehaviours', o.maxBehaviours, true);
    positive('maxOpen', o.maxOpen, true);
    this.options = Object.freeze(o);
  }

  get openCount(): number {
    return this.open.size;
  }

  get openedTotal(): number {
    return this.opened;
  }

  get closedTotal(): number {
    return this.closed;
  }

  /** Moves event time forward (call for every event, forwarded or not) and evicts closed signals. */
  advance(timeMs: number): void {
    if (!(timeMs > this.clockMs)) return;
    this.clockMs = timeMs;
    const horizon = timeMs - this.options.windowMs;
    if (horizon <= this.frontLastSeenMs) return;
    for (const [key, s] of this.open) {
      if (s.lastSeenMs >= horizon) break;
      this.open.delete(key);
      this.closed++;
    }
    this.refreshFront();
  }

  private refreshFront(): void {
    const front = this.open.values().next();
    this.frontLastSeenMs = front.done === true ? Infinity : front.value.lastSeenMs;
  }

  /** Adds a forwarded event; returns the signal it opened or updated. */
  add(ev: NormalizedEvent, score: number): SignalUpdate {
    const o = this.options;
    const t = Number.isFinite(ev.timeMs) ? ev.timeMs : Number.isFinite(this.clockMs) ? this.clockMs : 0;
    this.advance(t);
    const key = ev.workload.key;
    let s = this.open.get(key);
    if (s !== undefined && (t - s.lastSeenMs > o.windowMs || t - s.firstSeenMs > o.maxSpanMs)) {
      this.open.delete(key);
      this.closed++;
      s = undefined;
    }
    let kind: SignalUpdateKind;
    if (s === undefined) {
      if (this.open.size >= o.maxOpen) {
        const oldest = this.open.keys().next().value;
        if (oldest !== undefined) {
          this.open.delete(oldest);
          this.closed++;
        }
      }
      s = {
        id: `sig_${ev.id}`,
        workload: ev.workload,
        firstSeenMs: t,
        lastSeenMs: t,
        eventIds: [ev.id],
        maxScore: score,
        rules: [ev.rule],
        priorityLevel: ev.priorityLevel,
        count: 1,
        behaviours: [behaviourOf(ev)],
        behaviourEventIds: [ev.id],
      };
      this.opened++;
      kind = 'opened';
    } else {
      this.open.delete(key); // re-inserted below: most recently updated goes last
      if (t < s.firstSeenMs) s.firstSeenMs = t;
      if (t > s.lastSeenMs) s.lastSeenMs = t;
      const behaviour = behaviourOf(ev);
      const newBehaviour = s.behaviours.length < o.maxBehaviours && !s.behaviours.includes(behaviour);
      if (newBehaviour) {
        s.behaviours.push(behaviour);
        s.behaviourEventIds.push(ev.id);
      }
      if (s.eventIds.length < o.maxEventIds || newBehaviour) s.eventIds.push(ev.id);
      if (score > s.maxScore) s.maxScore = score;
      if (s.rules.length < o.maxRules && !s.rules.includes(ev.rule)) s.rules.push(ev.rule);
      if (ev.priorityLevel < s.priorityLevel) s.priorityLevel = ev.priorityLevel;
      s.count++;
      kind = 'updated';
    }
    this.open.set(key, s);
    this.refreshFront();
    return { kind, signal: snapshot(s) };
  }

  /** Snapshots of the signals still open. */
  openSignals(): Signal[] {
    return [...this.open.values()].map(snapshot);
  }
}

function snapshot(s: OpenSignal): Signal {
  return Object.freeze({
    id: s.id,
    workload: s.workload,
    firstSeenMs: s.firstSeenMs,
    lastSeenMs: s.lastSeenMs,
    eventIds: Object.freeze([...s.eventIds]),
    maxScore: s.maxScore,
    rules: Object.freeze([...s.rules]),
    priorityLevel: s.priorityLevel,
    count: s.count,
    behaviours: Object.freeze([...s.behaviours]),
    behaviourEventIds: Object.freeze([...s.behaviourEventIds]),
  });
}

/**
 * The events a report of the signal carries, at most `max`, in the signal's order: the first event
 * of every behaviour, then the earliest others. An attacker's new step is always among them, however
 * many events of a known behaviour came first.
 */
export function reportEventIds(signal: Signal, max: number): string[] {
  const chosen = new Set((signal.behaviourEventIds ?? []).slice(0, max));
  for (const id of signal.eventIds) {
    if (chosen.size >= max) break;
    chosen.add(id);
  }
  return signal.eventIds.filter((id) => chosen.has(id));
}
