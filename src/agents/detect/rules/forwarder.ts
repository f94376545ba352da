/**
 * Approved rules on the event path: every gated event is matched against
 * them. A match is tagged `falconer.rule:<name>` (in the stored event, so the
 * signal report and queries carry it), counted, and — when the gate's score
 * left it under the threshold — forwarded anyway, grouped per workload into
 * a signal of its own, reported through the detect service like the gate's.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NormalizedEvent } from '../../../events/types.ts';
import type { GateDecision } from '../../../gate/gate.ts';
import { SignalGrouper, type SignalUpdate } from '../../../gate/signals.ts';
import type { EventWire } from '../../contracts.ts';
import { clip, toEventWire } from '../../event-wire.ts';
import type { ApprovedRules } from './approved.ts';

export const RULE_TAG_PREFIX = 'falconer.rule:';
const MAX_TAGS = 64;

export interface RuleForwarderOptions {
  rules: ApprovedRules;
  registry: Registry;
  signalWindowMs?: number;
}

export class RuleForwarder {
  private readonly rules: ApprovedRules;
  private readonly grouper: SignalGrouper;
  private readonly matches: Counter<'rule' | 'action'>;

  constructor(opts: RuleForwarderOptions) {
    this.rules = opts.rules;
    this.grouper = new SignalGrouper(
      opts.signalWindowMs !== undefined ? { windowMs: opts.signalWindowMs } : {},
    );
    this.matches = new Counter({
      name: 'falconer_detect_rule_matches_total',
      help: 'Events matching an approved Falconer rule; action=forwarded when the rule forwarded an event the gate did not',
      labelNames: ['rule', 'action'],
      registers: [opts.registry],
    });
    const rules = opts.rules;
    new Gauge({
      name: 'falconer_detect_rules_active',
      help: 'Approved Falconer rules detect evaluates on every event',
      registers: [opts.registry],
      collect() {
        this.set(rules.size);
      },
    });
  }

  /**
   * Matches one gated event and hands it to `keep` (the event store, which makes its own bounded
   * copy), in wire form with the rule tags when it matched, saying whether a signal will carry it
   * (the gate forwarded it or a rule matched). Returns the signal update to report when a rule
   * matched and the gate did not forward the event.
   */
  observe(
    event: NormalizedEvent,
    decision: GateDecision,
    keep: (event: NormalizedEvent | EventWire, forwarded: boolean) => void,
  ): SignalUpdate | undefined {
    const names = this.rules.size === 0 ? [] : this.rules.match(event);
    if (names.length === 0) {
      keep(event, decision.forwarded);
      return undefined;
    }
    const wire = toEventWire(event);
    const tags = names.slice(0, MAX_TAGS).map((n) => clip(`${RULE_TAG_PREFIX}${n}`, 128));
    wire.tags = [...wire.tags.filter((t) => !tags.includes(t)).slice(0, MAX_TAGS - tags.length), ...tags];
    keep(wire, true);
    const action = decision.forwarded ? 'gate_forwarded' : 'forwarded';
    for (const n of names) this.matches.inc({ rule: clip(n, 200), action });
    return decision.forwarded ? undefined : this.grouper.add(event, decision.score);
  }
}
