/**
 * The syscall source as Falconer sees it: a Falco alert's `output_fields`, a
 * flat map whose keys are field names with their argument (`proc.aname[2]`).
 * Only the fields the rule's output printed are there; Falco writes `null`
 * for a field it could not extract. Both are "missing" to the evaluator.
 */
import type { FieldValue } from '../../events/types.ts';
import type { FieldSource, Getter } from './types.ts';

export type OutputFields = Readonly<Record<string, FieldValue>>;

export const syscallFields: FieldSource<OutputFields> = {
  name: 'syscall',
  field(ref) {
    const key = ref.arg === undefined ? ref.name : `${ref.name}[${ref.arg}]`;
    const get: Getter<OutputFields> = (fields) => fields[key];
    return get;
  },
};
