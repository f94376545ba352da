/**
 * The AgentPrompt resources of one YAML file, as the folder source and
 * `falconer prompts check` both see them: one resource per document, keyed
 * `<file>#<metadata.name>` (or `#document-<n>` without a name).
 */
import { PROMPT_LIMITS } from './schema.ts';
import { formatProblems, validatePromptObject, type PromptValidation } from './validate.ts';
import { parsePromptYaml } from './yaml-documents.ts';

/** `*.yaml` / `*.yml`, not dot-files (editor swap and backup files). */
export const isPromptFileName = (name: string): boolean => !name.startsWith('.') && /\.ya?ml$/.test(name);

/** Key of a file that provides no resource (e.g. it does not parse), so its refusal has a place. */
export const fileKey = (path: string): string => `${path}#file`;

export function tooLargeMessage(path: string, bytes: number): string | undefined {
  return bytes > PROMPT_LIMITS.fileBytes
    ? `${path}: ${bytes} bytes, more than the limit of ${PROMPT_LIMITS.fileBytes}`
    : undefined;
}

export type FileResources =
  | { readonly ok: true; readonly resources: readonly { key: string; validation: PromptValidation }[] }
  | { readonly ok: false; readonly message: string };

export function resourcesOfFile(path: string, text: string): FileResources {
  const parsed = parsePromptYaml(text);
  if (!parsed.ok) return { ok: false, message: formatProblems(path, parsed.problems) };
  const resources: { key: string; validation: PromptValidation }[] = [];
  const keys = new Set<string>();
  for (const doc of parsed.documents) {
    const key = `${path}#${doc.name ?? `document-${doc.index + 1}`}`;
    if (keys.has(key)) return { ok: false, message: `${path}: two documents are named ${doc.name ?? '?'}` };
    keys.add(key);
    // Problems name the file and line; a loaded prompt of a multi-document file also names its document.
    const origin = parsed.documents.length > 1 ? key : path;
    resources.push({ key, validation: validatePromptObject(doc.value, origin, doc.locate) });
  }
  return { ok: true, resources };
}
