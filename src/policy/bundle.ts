/**
 * Reads the committed policy bundle (policies/bundle.tar.gz, built by
 * scripts/build-policy-bundle.sh) and checks that it is not stale: its
 * revision is the sha256 of the Rego sources, computed the same way here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FalconerError } from '../errors.ts';
import './errors.ts';

export const POLICY_ENTRYPOINT = 'falconer/remediation/decision';
const REPO_ROOT = new URL('../../', import.meta.url).pathname;
export const DEFAULT_BUNDLE_PATH = join(REPO_ROOT, 'policies/bundle.tar.gz');
export const DEFAULT_POLICY_SOURCE_DIR = join(REPO_ROOT, 'policies/rego');

export interface PolicyBundle {
  wasm: Uint8Array;
  data: Record<string, unknown>;
  revision: string;
  entrypoints: string[];
}

/** The files of a (ustar) tar archive: enough for the bundles opa writes. */
export function untar(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1);
    if (!Number.isFinite(size) || size < 0 || offset + 512 + size > archive.length) {
      throw new FalconerError('POLICY_BUNDLE_INVALID', 'policy bundle: truncated or corrupt tar archive');
    }
    if (type === '0' || type === '')
      files.set(name.replace(/^\/+/, ''), archive.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export function readBundle(path: string = DEFAULT_BUNDLE_PATH): PolicyBundle {
  let files: Map<string, Buffer>;
  try {
    files = untar(gunzipSync(readFileSync(path)));
  } catch (err) {
    if (err instanceof FalconerError) throw err;
    throw new FalconerError(
      'POLICY_BUNDLE_INVALID',
      `cannot read the policy bundle ${path}: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
  const manifestRaw = files.get('.manifest');
  const wasm = files.get('policy.wasm');
  if (manifestRaw === undefined || wasm === undefined) {
    throw new FalconerError(
      'POLICY_BUNDLE_INVALID',
      `policy bundle ${path} lacks .manifest or policy.wasm (build it with scripts/build-policy-bundle.sh)`,
      { path },
    );
  }
  try {
    const manifest = JSON.parse(manifestRaw.toString('utf8')) as {
      revision?: string;
      wasm?: Array<{ entrypoint: string }>;
    };
    const data = files.has('data.json')
      ? (JSON.parse(files.get('data.json')!.toString('utf8')) as Record<string, unknown>)
      : {};
    return {
      wasm: new Uint8Array(wasm),
      data,
      revision: manifest.revision ?? '',
      entrypoints: (manifest.wasm ?? []).map((w) => w.entrypoint),
    };
  } catch (err) {
    throw new FalconerError(
      'POLICY_BUNDLE_INVALID',
      `policy bundle ${path}: invalid .manifest or data.json`,
      { path },
      { cause: err },
    );
  }
}

function sourceFiles(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p, root));
    else if ((name.endsWith('.rego') && !name.endsWith('_test.rego')) || name.endsWith('.json'))
      out.push(relative(root, p));
  }
  return out;
}

/** Same digest as scripts/build-policy-bundle.sh: sha256 of "<sha256>  <path>\n" lines, paths byte-sorted. */
export function sourceRevision(dir: string = DEFAULT_POLICY_SOURCE_DIR): string {
  const lines = sourceFiles(dir)
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map(
      (f) =>
        `${createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex')}  ${f}\n`,
    )
    .join('');
  return `sources-sha256:${createHash('sha256').update(lines).digest('hex')}`;
}

/** Throws POLICY_BUNDLE_STALE when the bundle was not built from the current sources. */
export function assertFresh(bundle: PolicyBundle, sourceDir: string = DEFAULT_POLICY_SOURCE_DIR): void {
  const expected = sourceRevision(sourceDir);
  if (bundle.revision !== expected) {
    throw new FalconerError(
      'POLICY_BUNDLE_STALE',
      `the policy bundle is stale: its revision is '${bundle.revision}' but the sources in ${sourceDir} give '${expected}'; run scripts/build-policy-bundle.sh`,
      { bundleRevision: bundle.revision, sourceRevision: expected },
    );
  }
}
