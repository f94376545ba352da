/**
 * Turns a zod error into one located, bounded message: the first issue's path
 * (e.g. `output_fields["proc.pid"]`) and reason. Paths and quoted values are
 * truncated, since keys and values are attacker-controlled.
 */
import type { z } from 'zod';
import { truncateForMessage } from './truncate.ts';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_KEY_IN_PATH = 64;

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const key = String(seg);
      if (IDENTIFIER.test(key) && key.length <= MAX_KEY_IN_PATH) out += out.length === 0 ? key : `.${key}`;
      else out += `[${JSON.stringify(truncateForMessage(key, MAX_KEY_IN_PATH))}]`;
    }
  }
  return out;
}

type Issue = z.core.$ZodIssue;

/** Within a union ("is it a string? a number?…"), a size or range complaint says more than a type mismatch. */
function mostTelling(issue: Issue): Issue {
  if (issue.code !== 'invalid_union') return issue;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const telling = mostTelling(inner);
      if (telling.code !== 'invalid_type' && telling.code !== 'invalid_union') {
        return { ...telling, path: issue.path };
      }
    }
  }
  return issue;
}

export function schemaErrorDetail(error: z.ZodError): { path: string; reason: string } {
  const first = error.issues[0];
  if (first === undefined) return { path: '(root)', reason: 'invalid' };
  const issue = mostTelling(first);
  const missing = issue.code === 'invalid_type' && issue.message.endsWith('received undefined');
  const reason = missing
    ? `required field missing (expected ${issue.expected})`
    : truncateForMessage(issue.message, 200);
  return { path: formatPath(first.path), reason };
}
