/**
 * The Falco alert as Falco's `json_output` / `http_output` and falcosidekick's
 * webhook output write it. This zod schema is the documented contract; the hot
 * path uses the equivalent hand-written check in falco-alert-fast.ts and falls
 * back to this schema for the authoritative verdict and a located error.
 *
 * Shapes seen in the wild (falcosecurity/falco userspace/engine/formats.cpp,
 * falcosidekick types.FalcoPayload):
 * - Falco: time, rule, priority, source, hostname (≥0.31), and, each switchable
 *   off in falco.yaml, output, tags, output_fields. `evt.time` in output_fields
 *   is an integer of nanoseconds; pids, ports, uids are numbers; some fields are
 *   lists; a field without a value is null.
 * - falcosidekick: the same keys plus `uuid`; `tags` and `hostname` omitted when
 *   empty; its customfields are merged into output_fields; times re-serialized
 *   by Go (RFC 3339, up to 9 fraction digits, any offset).
 * Unknown top-level keys are dropped, never kept: labels and anything else a
 * producer adds do not reach the gate.
 */
import { z } from 'zod';
import { DEFAULT_EVENT_LIMITS, type EventLimits } from './limits.ts';
import { parsePriority } from './priority.ts';
import { isRfc3339 } from './time.ts';
import type { FieldValue, Priority } from './types.ts';

/** A validated alert: defaults applied, priority in Falco's canonical spelling. */
export interface FalcoAlert {
  readonly hostname?: string;
  readonly output: string;
  readonly priority: Priority;
  readonly rule: string;
  readonly source: string;
  readonly tags: readonly string[];
  readonly time: string;
  readonly output_fields: Readonly<Record<string, FieldValue>>;
  readonly uuid?: string;
}

export const DEFAULT_SOURCE = 'syscall';
/** Longest priority spelling we look at ("Informational" is 13). */
export const MAX_PRIORITY_LENGTH = 32;

const EMPTY_FIELDS: Readonly<Record<string, FieldValue>> = Object.freeze({});
const EMPTY_TAGS: readonly string[] = Object.freeze([]);

export const FIELD_VALUE_MESSAGE = 'expected a string, a finite number, a boolean, null, or a list of those';

export function createFalcoAlertSchema(limits: EventLimits = DEFAULT_EVENT_LIMITS) {
  const text = z.string().max(limits.maxStringLength);
  const scalar = z.union([text, z.number(), z.boolean(), z.null()]);
  const fieldValue = z.union([scalar, z.array(scalar).max(limits.maxListLength)], {
    error: FIELD_VALUE_MESSAGE,
  });
  const outputFields = z
    .record(z.string().max(limits.maxFieldNameLength), fieldValue)
    .refine((r) => Object.keys(r).length <= limits.maxFields, {
      error: `too many output_fields: at most ${limits.maxFields}`,
      abort: true,
    });

  return z.object({
    hostname: text.optional(),
    output: text.optional().transform((v) => v ?? ''),
    priority: z
      .string()
      .max(MAX_PRIORITY_LENGTH)
      .transform((v, ctx): Priority => {
        const p = parsePriority(v);
        if (p !== undefined) return p;
        ctx.issues.push({
          code: 'custom',
          input: v,
          message:
            'unknown priority: expected one of Emergency, Alert, Critical, Error, Warning, Notice, Informational (or Info), Debug, any case',
        });
        return z.NEVER;
      }),
    rule: text.min(1),
    source: text
      .min(1)
      .optional()
      .transform((v) => v ?? DEFAULT_SOURCE),
    // Go serializes a nil slice/map as null; treat null like absent.
    tags: z
      .array(text)
      .max(limits.maxTags)
      .nullish()
      .transform((v): readonly string[] => v ?? EMPTY_TAGS),
    time: text.refine(isRfc3339, {
      error: 'expected an RFC 3339 date-time, e.g. 2024-05-14T09:21:44.123456789Z',
    }),
    output_fields: outputFields
      .nullish()
      .transform((v): Readonly<Record<string, FieldValue>> => v ?? EMPTY_FIELDS),
    uuid: text.optional(),
  });
}

export type FalcoAlertSchema = ReturnType<typeof createFalcoAlertSchema>;

/** The schema with the default limits. */
export const FalcoAlertSchema: FalcoAlertSchema = createFalcoAlertSchema();
