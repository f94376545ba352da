/**
 * @platformatic/kafka wraps causes ("Producing messages failed.") in `errors`
 * lists; this flattens the first few into one line so logs say what went wrong.
 */
import { describeError } from '../errors.ts';

export function kafkaErrorText(err: unknown, depth = 0): string {
  const text = describeError(err);
  if (depth > 3 || typeof err !== 'object' || err === null) return text;
  const inner = (err as { errors?: unknown }).errors;
  const cause = (err as { cause?: unknown }).cause;
  const parts: unknown[] = Array.isArray(inner) ? inner.slice(0, 3) : cause !== undefined ? [cause] : [];
  if (parts.length === 0) return text;
  return `${text} (${parts.map((p) => kafkaErrorText(p, depth + 1)).join('; ')})`;
}
