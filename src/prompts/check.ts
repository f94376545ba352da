/**
 * Checks AgentPrompt files offline, as an agent would load them (schema,
 * placeholders, output schema, one resource per prompt): for CI and for
 * `falconer prompts check` before a prompt change is committed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import { PromptRegistry, type PromptResourceStatus } from './registry.ts';
import { fileKey, isPromptFileName, resourcesOfFile, tooLargeMessage } from './file-resources.ts';

/** The YAML files named: files as given, folders by their `*.yaml` / `*.yml` entries. */
export function promptFiles(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      throw new FalconerError(
        'PROMPT_SOURCE_UNAVAILABLE',
        `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        { path },
      );
    }
    if (!isDir) return [path];
    return readdirSync(path)
      .filter(isPromptFileName)
      .sort()
      .map((n) => join(path, n));
  });
}

/** One status per resource (or per unreadable file), in file order. */
export function checkPromptFiles(paths: readonly string[]): PromptResourceStatus[] {
  const registry = new PromptRegistry();
  for (const path of promptFiles(paths)) {
    const tooLarge = tooLargeMessage(path, statSync(path).size);
    const file =
      tooLarge !== undefined
        ? { ok: false as const, message: tooLarge }
        : resourcesOfFile(path, readFileSync(path, 'utf8'));
    if (!file.ok) registry.refuseUnreadable(fileKey(path), path, file.message);
    else for (const { key, validation } of file.resources) registry.apply(key, path, validation);
  }
  return registry.keys().map((k) => registry.status(k)!);
}
