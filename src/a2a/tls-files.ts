/**
 * Certificate, key and trust bundle from files, reloaded when they change.
 *
 * cert-manager (and kubelet's secret volumes) rotate by writing a new
 * timestamped directory and atomically swapping the `..data` symlink, so
 * watching the files' inodes misses rotations. We watch the directories
 * (fs.watch, fast path) and also poll the contents (fallback for
 * filesystems without inotify); a change is applied only once the three
 * files load and the key matches the certificate, so a half-written
 * rotation is never served.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describeError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import { FalconerError } from './errors.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  /** sha256 of the three files' contents: changes when any of them does. */
  readonly version: string;
  /** The leaf certificate's SHA-256 fingerprint (colon-separated hex, as Node prints it). */
  readonly fingerprint: string;
  readonly notAfter: Date;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new FalconerError(
      'TLS_FILES_INVALID',
      `cannot read the ${what} file ${path}: ${(err as Error).message}`,
      {
        path,
      },
    );
  }
}

/** Loads and checks the files: the certificate parses, the key matches it, the trust bundle parses. */
export async function loadTlsMaterial(files: TlsFiles): Promise<TlsMaterial> {
  const [cert, key, ca] = await Promise.all([
    readText(files.certFile, 'certificate'),
    readText(files.keyFile, 'private key'),
    readText(files.caFile, 'CA bundle'),
  ]);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new FalconerError(
      'TLS_FILES_INVALID',
      `${files.certFile} is not a PEM certificate: ${(err as Error).message}`,
      {
        path: files.certFile,
      },
    );
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(key)))
      throw new Error('the key does not match the certificate');
  } catch (err) {
    throw new FalconerError(
      'TLS_FILES_INVALID',
      `${files.keyFile} does not fit ${files.certFile}: ${(err as Error).message}`,
      {
        path: files.keyFile,
      },
    );
  }
  try {
    new X509Certificate(ca);
  } catch (err) {
    throw new FalconerError(
      'TLS_FILES_INVALID',
      `${files.caFile} is not a PEM certificate bundle: ${(err as Error).message}`,
      {
        path: files.caFile,
      },
    );
  }
  const version = createHash('sha256')
    .update(cert)
    .update('\0')
    .update(key)
    .update('\0')
    .update(ca)
    .digest('hex');
  return { cert, key, ca, version, fingerprint: leaf.fingerprint256, notAfter: new Date(leaf.validTo) };
}

export interface TlsWatcherOptions {
  readonly logger?: Logger;
  /** Poll interval (ms); default 10 s. The directory watch usually reacts first. */
  readonly pollMs?: number;
  /** Called with each new valid material (after the first). Errors thrown here are logged. */
  readonly onChange?: (material: TlsMaterial) => void | Promise<void>;
}

/** Holds the current TLS material and reloads it when the files change. */
export class TlsFileWatcher {
  private material: TlsMaterial;
  private readonly watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private readonly listeners: Array<(m: TlsMaterial) => void | Promise<void>> = [];
  private closed = false;

  private constructor(
    readonly files: TlsFiles,
    initial: TlsMaterial,
    private readonly opts: TlsWatcherOptions,
  ) {
    this.material = initial;
    if (opts.onChange) this.listeners.push(opts.onChange);
  }

  /** Loads the files (failing clearly if they are unusable) and starts watching them. */
  static async start(files: TlsFiles, opts: TlsWatcherOptions = {}): Promise<TlsFileWatcher> {
    const w = new TlsFileWatcher(files, await loadTlsMaterial(files), opts);
    w.startWatching();
    return w;
  }

  get current(): TlsMaterial {
    return this.material;
  }

  onChange(listener: (m: TlsMaterial) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  private startWatching(): void {
    const dirs = new Set([this.files.certFile, this.files.keyFile, this.files.caFile].map((f) => dirname(f)));
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (err) =>
          this.opts.logger?.warn(
            { dir, err: describeError(err) },
            'tls directory watch failed; polling only',
          ),
        );
        this.watchers.push(w);
      } catch (err) {
        this.opts.logger?.warn({ dir, err: describeError(err) }, 'cannot watch tls directory; polling only');
      }
    }
    this.timer = setInterval(() => void this.reload(), this.opts.pollMs ?? 10_000);
    this.timer.unref();
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    // Writers replace the three files one after the other: wait for the burst to end.
    this.debounce = setTimeout(() => void this.reload(), 50);
    this.debounce.unref();
  }

  /** Re-reads the files now; applies them if they changed and are valid. Resolves when done. */
  reload(): Promise<void> {
    if (this.reloading) return this.reloading;
    this.reloading = this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    if (this.closed) return;
    let next: TlsMaterial;
    try {
      next = await loadTlsMaterial(this.files);
    } catch (err) {
      // Mid-rotation or broken: keep serving the current material.
      this.opts.logger?.warn(
        { err: describeError(err) },
        'tls files unusable; keeping the current certificate',
      );
      return;
    }
    if (next.version === this.material.version || this.closed) return;
    this.material = next;
    this.opts.logger?.info(
      { fingerprint: next.fingerprint, notAfter: next.notAfter.toISOString() },
      'tls certificate reloaded',
    );
    for (const listener of this.listeners) {
      try {
        await listener(next);
      } catch (err) {
        this.opts.logger?.error({ err: describeError(err) }, 'applying reloaded tls material failed');
      }
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
  }
}
