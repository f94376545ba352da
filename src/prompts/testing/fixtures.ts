/** Test helpers for src/prompts: the shipped prompts as objects, edits of them, and polling. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_PROMPTS_DIR } from '../config.ts';

export type PromptObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & { version: string; system: string };
};

export const SHIPPED_FILES = [
  'analyse-incident-analysis.yaml',
  'analyse-rule-authoring.yaml',
  'notify-incident-summary.yaml',
] as const;

export function shippedText(file: (typeof SHIPPED_FILES)[number]): string {
  return readFileSync(join(DEFAULT_PROMPTS_DIR, file), 'utf8');
}

export function shippedObject(file: (typeof SHIPPED_FILES)[number]): PromptObject {
  return parse(shippedText(file)) as PromptObject;
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | false,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
