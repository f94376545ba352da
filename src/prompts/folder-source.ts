/**
 * AgentPrompts read from a folder of YAML files (`*.yaml`, `*.yml`;
 * multi-document files allowed), watched with fs.watch (debounced) and
 * rescanned periodically as a fallback (fs.watch misses events on some file
 * systems, e.g. network mounts and ConfigMap volumes' symlink swaps).
 * A file that cannot be read or parsed keeps the prompts it provided before.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FalconerError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { silentLogger } from '../telemetry/logger.ts';
import './errors.ts';
import type { PromptRegistry } from './registry.ts';
import { fileKey, isPromptFileName, resourcesOfFile, tooLargeMessage } from './file-resources.ts';
import type { LoadedPrompt, PromptSource } from './types.ts';

export interface FolderPromptSourceOptions {
  readonly dir: string;
  readonly registry: PromptRegistry;
  readonly logger?: Logger;
  /** Quiet time after the last change before a rescan (editors write in several steps). */
  readonly debounceMs?: number;
  /** Periodic rescan, in case fs.watch misses a change; 0 turns it off. */
  readonly rescanMs?: number;
  /** Use fs.watch (default true); false: periodic rescans only (file systems that report no changes). */
  readonly watch?: boolean;
}

export class FolderPromptSource implements PromptSource {
  readonly registry: PromptRegistry;
  readonly dir: string;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  /** File path → its last text and the resource keys it provided. */
  private readonly files = new Map<string, { text: string; keys: Set<string> }>();
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;
  private closed = false;

  private constructor(options: FolderPromptSourceOptions) {
    this.dir = options.dir;
    this.registry = options.registry;
    this.logger = options.logger ?? silentLogger();
    this.debounceMs = options.debounceMs ?? 200;
  }

  /** Reads the folder once (fails when it cannot be read), then watches it. */
  static async open(options: FolderPromptSourceOptions): Promise<FolderPromptSource> {
    const source = new FolderPromptSource(options);
    await source.listFiles(); // a missing folder is a configuration error: say so now
    await source.rescan();
    source.startWatching(options.watch ?? true, options.rescanMs ?? 30_000);
    return source;
  }

  get(agent: string, name: string): LoadedPrompt | undefined {
    return this.registry.get(agent, name);
  }

  list(): LoadedPrompt[] {
    return this.registry.list();
  }

  /** Reads every changed file now; concurrent calls coalesce into at most one more pass. */
  rescan(): Promise<void> {
    if (this.scanning !== undefined) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.rescanRequested = false;
          await this.scanOnce();
        } while (this.rescanRequested && !this.closed);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  private async listFiles(): Promise<string[]> {
    try {
      const names = await readdir(this.dir);
      return names.filter(isPromptFileName).sort();
    } catch (err) {
      throw new FalconerError(
        'PROMPT_SOURCE_UNAVAILABLE',
        `cannot read the prompts folder ${this.dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        { dir: this.dir },
        { cause: err },
      );
    }
  }

  private async scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = await this.listFiles();
    } catch (err) {
      // The folder vanished (e.g. an unmounted volume): keep serving what we have rather than nothing.
      this.logger.error({ err, dir: this.dir }, 'prompts folder unreadable; the loaded prompts stay');
      return;
    }
    const present = new Set(names.map((n) => join(this.dir, n)));
    for (const [path, file] of this.files) {
      if (present.has(path)) continue;
      for (const key of file.keys) this.registry.remove(key);
      this.files.delete(path);
    }
    for (const path of present) {
      if (this.closed) return;
      await this.loadFile(path);
    }
  }

  private async loadFile(path: string): Promise<void> {
    const known = this.files.get(path);
    let text: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) return;
      const tooLarge = tooLargeMessage(path, info.size);
      if (tooLarge !== undefined) return this.unreadable(path, tooLarge);
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // deleted between readdir and read: the next scan removes it
      return this.unreadable(path, `${path}: cannot read: ${code ?? String(err)}`);
    }
    if (known !== undefined && known.text === text) return;
    const file = resourcesOfFile(path, text);
    if (!file.ok) return this.unreadable(path, file.message, text);
    const keys = new Set(file.resources.map((r) => r.key));
    // Documents that left the file go first, so a prompt moved between documents is not a conflict.
    for (const key of known?.keys ?? []) if (!keys.has(key)) this.registry.remove(key);
    for (const { key, validation } of file.resources) {
      const status = this.registry.apply(key, path, validation);
      if (!status.accepted) this.logger.warn({ file: path, reason: status.reason }, status.message);
    }
    this.files.set(path, { text, keys });
  }

  /**
   * The file cannot be used as a whole: the prompts it provided stay, and it
   * is marked refused (under its own key when it provided none).
   */
  private unreadable(path: string, message: string, text?: string): void {
    const known = this.files.get(path);
    const keys = known !== undefined && known.keys.size > 0 ? known.keys : new Set([fileKey(path)]);
    for (const key of keys) this.registry.refuseUnreadable(key, path, message);
    this.logger.warn({ file: path }, message);
    // Remember the text so an unchanged broken file is not re-reported on every rescan.
    this.files.set(path, { text: text ?? '', keys });
  }

  private startWatching(useFsWatch: boolean, rescanMs: number): void {
    const schedule = () => {
      if (this.closed) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.rescan().catch((err: unknown) => this.logger.error({ err }, 'prompts rescan failed'));
      }, this.debounceMs);
    };
    if (useFsWatch) this.watchFolder(schedule);
    if (rescanMs > 0) {
      this.interval = setInterval(schedule, rescanMs);
      this.interval.unref();
    }
  }

  private watchFolder(schedule: () => void): void {
    try {
      this.watcher = watch(this.dir, { persistent: false }, schedule);
      this.watcher.on('error', (err) => {
        this.logger.warn({ err, dir: this.dir }, 'watching the prompts folder failed; periodic rescans only');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (err) {
      this.logger.warn({ err, dir: this.dir }, 'cannot watch the prompts folder; periodic rescans only');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.debounce);
    clearInterval(this.interval);
    this.watcher?.close();
    this.watcher = undefined;
    await this.scanning?.catch(() => undefined);
  }
}
