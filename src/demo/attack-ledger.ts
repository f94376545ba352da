/**
 * The demo's record of a scenario's labelled attacks when the gate runs in
 * another process: which event ids belong to which attack, and when the
 * first of them was handed to the ingest (the start of "time to incident").
 */
import type { ScenarioLabel } from '../scenario/types.ts';
import type { AttackRecord } from './platform-report.ts';
import type { AttackObserver } from './scenario-source.ts';

interface Entry {
  kind: string;
  technique: string;
  eventIds: Set<string>;
  firstSentMs: number | null;
}

export class AttackLedger implements AttackObserver {
  private readonly attacks = new Map<string, Entry>();
  private readonly unsent = new Set<Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  expect(eventId: string, _timeMs: number, label: ScenarioLabel): void {
    if (label.label !== 'attack' || label.attackId === null || label.kind === null) return;
    let entry = this.attacks.get(label.attackId);
    if (!entry) {
      entry = {
        kind: label.kind,
        technique: label.technique ?? 'unknown',
        eventIds: new Set(),
        firstSentMs: null,
      };
      this.attacks.set(label.attackId, entry);
      this.unsent.add(entry);
    }
    entry.eventIds.add(eventId);
  }

  chunkSent(): void {
    const now = this.now();
    for (const entry of this.unsent) entry.firstSentMs = now;
    this.unsent.clear();
  }

  records(): AttackRecord[] {
    return [...this.attacks.entries()].map(([attackId, e]) => ({
      attackId,
      kind: e.kind,
      technique: e.technique,
      eventIds: e.eventIds,
      firstSentMs: e.firstSentMs,
    }));
  }
}
