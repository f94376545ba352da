/**
 * Field extraction for the evaluator. A source (syscall, k8s_audit) turns a
 * field reference into a getter once, at compile time; the getter returns the
 * field's value for an event, or undefined/null when the event does not have it
 * (Falco: the field "cannot be extracted").
 */
import type { FieldRef } from '../ast.ts';

export type Scalar = string | number | boolean;
/** A list-typed field yields an array (Falco EPF_IS_LIST); missing is undefined or null. */
export type Extracted = Scalar | readonly (Scalar | null)[] | null | undefined;
export type Getter<E> = (event: E) => Extracted;

export interface FieldSource<E> {
  readonly name: string;
  /** Getter for a field, or a string saying why the field is not usable with this source. */
  field(ref: FieldRef): Getter<E> | string;
}
