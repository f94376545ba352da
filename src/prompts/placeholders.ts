/**
 * `{{name}}` placeholders: found in a prompt's texts (for validation) and
 * filled in one pass (so a value that itself contains `{{x}}` — event data
 * can — is never expanded again).
 */
import { FalconerError } from '../errors.ts';
import './errors.ts';
import type { LoadedPrompt } from './types.ts';

/** `{{name}}`, and the spaced form `{{ name }}` so it can be refused with a clear message. */
const PLACEHOLDER = /\{\{(\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*)\}\}/g;

export interface PlaceholderUse {
  readonly name: string;
  /** Character offset in the text. */
  readonly index: number;
  /** Written with spaces inside the braces: not a placeholder, refused. */
  readonly spaced: boolean;
}

export function findPlaceholders(text: string): PlaceholderUse[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => ({
    name: m[2]!,
    index: m.index,
    spaced: m[1] !== '' || m[3] !== '',
  }));
}

/**
 * Fills the placeholders of one text. Every placeholder needs a value; values
 * must already be fenced by the caller when they hold untrusted data.
 */
export function fillPlaceholders(
  text: string,
  values: Readonly<Record<string, string>>,
  where: string,
): string {
  return text.replace(PLACEHOLDER, (whole: string, before: string, name: string, after: string) => {
    if (before !== '' || after !== '') return whole;
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (value === undefined) {
      throw new FalconerError('PROMPT_RENDER', `no value for placeholder {{${name}}} in ${where}`, {
        where,
        placeholder: name,
      });
    }
    return value;
  });
}

/** The system prompt and one named template of a prompt, filled. */
export function renderPrompt(
  prompt: LoadedPrompt,
  template: string,
  values: Readonly<Record<string, string>>,
): { system: string; message: string } {
  const where = `${prompt.agent}/${prompt.name}@${prompt.version}`;
  const body = Object.hasOwn(prompt.templates, template) ? prompt.templates[template] : undefined;
  if (body === undefined) {
    throw new FalconerError('PROMPT_RENDER', `prompt ${where} has no template "${template}"`, {
      prompt: where,
      template,
      templates: Object.keys(prompt.templates),
    });
  }
  return {
    system: fillPlaceholders(prompt.system, values, `${where} system`),
    message: fillPlaceholders(body, values, `${where} templates.${template}`),
  };
}
