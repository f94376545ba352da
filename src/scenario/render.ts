/**
 * Facts → Falco alert JSON, the way Falco renders it: the rule's output format
 * (plus the syscall append_output) compiled once, fields resolved per event.
 */
import type { FieldValue } from '../events/types.ts';
import { RULES, SYSCALL_APPEND_OUTPUT, type RuleId } from './catalog.ts';
import { resolveSyscallField, type Facts } from './facts.ts';
import { compileFormat, renderOutput, timeField, type CompiledFormat, type TimeFormat } from './format.ts';
import { FalcoClock } from './time.ts';
import type { AttackKind, FalcoAlertJson } from './types.ts';

export interface AttackTag {
  readonly id: string;
  readonly kind: AttackKind;
  readonly technique: string;
}

/** One alert to be: when, which rule, what happened, and (ground truth) which attack it belongs to. */
export interface Draft {
  /** Nanoseconds after the scenario start. */
  readonly t: number;
  readonly rule: RuleId;
  readonly facts: Facts;
  readonly attack?: AttackTag;
}

interface CompiledRule {
  readonly name: string;
  readonly source: string;
  readonly priority: FalcoAlertJson['priority'];
  readonly tags: readonly string[];
  readonly format: CompiledFormat;
  /**
   * output_fields with every key, all null: each alert starts as a copy, so its
   * fields object is a fast-mode object of one shape per rule (adding ~30 keys one
   * by one would turn it into a slow dictionary, for us and for every reader).
   */
  readonly fieldsTemplate: Readonly<Record<string, FieldValue>>;
}

export class AlertRenderer {
  private readonly compiled = new Map<RuleId, CompiledRule>();
  private readonly timeKey: string;
  private readonly clock: FalcoClock;

  constructor(
    startMs: number,
    private readonly timeFormat: TimeFormat = 'default',
  ) {
    this.timeKey = timeField(timeFormat);
    this.clock = new FalcoClock(startMs);
  }

  private rule(id: RuleId): CompiledRule {
    let c = this.compiled.get(id);
    if (c === undefined) {
      const r = RULES[id];
      const format = r.source === 'syscall' ? `${r.output} ${SYSCALL_APPEND_OUTPUT}` : r.output;
      const compiled = compileFormat(format, this.timeFormat);
      c = {
        name: r.name,
        source: r.source,
        priority: r.priority,
        tags: Object.freeze([...r.tags]),
        format: compiled,
        fieldsTemplate: Object.fromEntries(compiled.keys.map((k) => [k, null])),
      };
      this.compiled.set(id, c);
    }
    return c;
  }

  render(draft: Draft): FalcoAlertJson {
    const rule = this.rule(draft.rule);
    const time = this.clock.at(draft.t);
    const facts = draft.facts;
    const timeKey = this.timeKey;
    const keys = rule.format.keys;
    const outputFields: Record<string, FieldValue> = { ...rule.fieldsTemplate };
    if (facts.kind === 'syscall') {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        outputFields[key] = key === timeKey ? time.ns : resolveSyscallField(facts, key, time.ns);
      }
    } else {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        outputFields[key] = key === timeKey ? time.ns : (facts.fields[key] ?? null);
      }
    }
    const timeText = this.timeFormat === 'iso8601' ? time.iso8601 : time.clock;
    return {
      hostname: facts.kind === 'syscall' ? facts.container.pod.node.name : facts.hostname,
      output: renderOutput(rule.format, timeText, rule.priority, (f) => outputFields[f] ?? null),
      output_fields: outputFields,
      priority: rule.priority,
      rule: rule.name,
      source: rule.source,
      tags: rule.tags,
      time: time.iso,
    };
  }
}
