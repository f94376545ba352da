/**
 * Follows the labelled attacks of a generated scenario through the gate. The
 * labels stay here, on the demo's side: the gate only ever sees Falco alerts.
 */
import type { NormalizedEvent } from '../events/types.ts';
import type { GateDecision } from '../gate/gate.ts';
import type { AttackKind, ScenarioLabel } from '../scenario/types.ts';

export interface AttackOutcome {
  readonly attackId: string;
  readonly kind: AttackKind;
  readonly technique: string;
  readonly events: number;
  readonly detected: boolean;
  /** Event time from the attack's first event to its first forwarded event. */
  readonly msToSignal: number | null;
  /** Wall-clock time from its first event entering the gate to its first forwarded one. */
  readonly wallMsToSignal: number | null;
  readonly signalId: string | null;
}

interface AttackState {
  kind: AttackKind;
  technique: string;
  events: number;
  firstEventMs: number;
  firstSeenWallMs: number | null;
  detectedEventMs: number | null;
  detectedWallMs: number | null;
  signalId: string | null;
}

export class AttackTracker {
  private readonly attacks = new Map<string, AttackState>();
  private readonly attackOfEvent = new Map<string, string>();
  private benignForwarded = 0;
  private forwarded = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers one labelled event before it is replayed (its id is computed the way the ingest will). */
  expect(eventId: string, timeMs: number, label: ScenarioLabel): void {
    if (label.label !== 'attack' || label.attackId === null || label.kind === null) return;
    this.attackOfEvent.set(eventId, label.attackId);
    const state = this.attacks.get(label.attackId);
    if (state) {
      state.events += 1;
      state.firstEventMs = Math.min(state.firstEventMs, timeMs);
      return;
    }
    this.attacks.set(label.attackId, {
      kind: label.kind,
      technique: label.technique ?? 'unknown',
      events: 1,
      firstEventMs: timeMs,
      firstSeenWallMs: null,
      detectedEventMs: null,
      detectedWallMs: null,
      signalId: null,
    });
  }

  observe(event: NormalizedEvent, decision: GateDecision): void {
    if (decision.forwarded) this.forwarded += 1;
    const attackId = this.attackOfEvent.get(event.id);
    const state = attackId === undefined ? undefined : this.attacks.get(attackId);
    if (!state) {
      if (decision.forwarded) this.benignForwarded += 1;
      return;
    }
    state.firstSeenWallMs ??= this.now();
    if (decision.forwarded && state.detectedEventMs === null) {
      state.detectedEventMs = event.timeMs;
      state.detectedWallMs = this.now();
      state.signalId = decision.signal?.id ?? null;
    }
  }

  outcomes(): AttackOutcome[] {
    return [...this.attacks.entries()].map(([attackId, s]) => ({
      attackId,
      kind: s.kind,
      technique: s.technique,
      events: s.events,
      detected: s.detectedEventMs !== null,
      msToSignal: s.detectedEventMs === null ? null : s.detectedEventMs - s.firstEventMs,
      wallMsToSignal:
        s.detectedWallMs === null || s.firstSeenWallMs === null ? null : s.detectedWallMs - s.firstSeenWallMs,
      signalId: s.signalId,
    }));
  }

  get benignForwardedCount(): number {
    return this.benignForwarded;
  }

  get forwardedCount(): number {
    return this.forwarded;
  }
}
