/**
 * Reads events for `falconer rules test`: Falco alert NDJSON (syscall source:
 * the rules see each alert's output_fields) or Kubernetes audit events — one
 * Event JSON, an EventList (`items`), or NDJSON of either.
 */
import { readFile } from 'node:fs/promises';
import { FalconerError } from '../errors.ts';
import type { AuditEvent } from './fields/k8s-audit.ts';
import type { OutputFields } from './fields/syscall.ts';

function parseJson(text: string, file: string, line: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new FalconerError('RULES_EVENTS_INVALID', `${file}:${line}: not JSON: ${(err as Error).message}`, {
      file,
      line,
    });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every JSON value of a file: the whole file when it is one JSON document, else one per non-empty line. */
export function jsonValues(text: string, file: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  try {
    return [JSON.parse(trimmed) as unknown];
  } catch {
    // NDJSON
  }
  const out: unknown[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') out.push(parseJson(line, file, i + 1));
  });
  return out;
}

/** Kubernetes audit events of a file (Event, EventList, or NDJSON of them). */
export function auditEvents(text: string, file: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const v of jsonValues(text, file)) {
    if (isObject(v) && v.kind === 'EventList' && Array.isArray(v.items)) out.push(...v.items);
    else if (Array.isArray(v)) out.push(...(v as unknown[]));
    else if (isObject(v)) out.push(v);
    else throw new FalconerError('RULES_EVENTS_INVALID', `${file}: not a Kubernetes audit event`, { file });
  }
  return out;
}

/** output_fields of each Falco alert in a file (an alert without output_fields has none). */
export function alertOutputFields(text: string, file: string): OutputFields[] {
  return jsonValues(text, file).map((v, i) => {
    if (!isObject(v))
      throw new FalconerError('RULES_EVENTS_INVALID', `${file}: alert ${i + 1} is not an object`, { file });
    const f = v.output_fields;
    return (isObject(f) ? f : {}) as OutputFields;
  });
}

export async function readEventsFile(
  file: string,
  source: 'syscall' | 'k8s_audit',
): Promise<OutputFields[] | AuditEvent[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FalconerError('IO_ERROR', `cannot read events file ${file}: ${(err as Error).message}`, {
      file,
    });
  }
  return source === 'k8s_audit' ? auditEvents(text, file) : alertOutputFields(text, file);
}
