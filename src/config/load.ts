import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FalconerError } from '../errors.ts';
import { ConfigSchema, type FalconerConfig } from './schema.ts';

const ENV_PREFIX = 'FALCONER_';

/** `gate.forwardRate` → `FALCONER_GATE_FORWARD_RATE`. */
export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

export function parseEnvValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed === 'null') return null;
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  return raw;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new FalconerError('CONFIG_INVALID', `cannot read config file ${file}`, { file }, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new FalconerError('CONFIG_INVALID', `config file ${file} is not valid YAML/JSON: ${reason}`, {
      file,
    });
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FalconerError('CONFIG_INVALID', `config file ${file} must hold a mapping at its top level`, {
      file,
    });
  }
  return parsed as Record<string, unknown>;
}

export interface LoadConfigOptions {
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Applied last, e.g. from command-line flags: dotted path → value. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** File, then FALCONER_* environment variables, then overrides; validated once, with every problem listed. */
export function loadConfig(opts: LoadConfigOptions = {}): FalconerConfig {
  const env = opts.env ?? process.env;
  const input: Record<string, unknown> = opts.file ? readConfigFile(opts.file) : {};
  for (const path of leafPaths(ConfigSchema.parse({}))) {
    const raw = env[envNameFor(path)];
    if (raw !== undefined) setPath(input, path, parseEnvValue(raw));
  }
  for (const [dotted, value] of Object.entries(opts.overrides ?? {})) {
    if (value !== undefined) setPath(input, dotted.split('.'), value);
  }
  const result = ConfigSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      const where = path.length ? path.join('.') : '(top level)';
      return `${where} (${envNameFor(path)}): ${issue.message}`;
    });
    throw new FalconerError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      source: opts.file ?? 'defaults+env',
      problems: z.treeifyError(result.error),
    });
  }
  return result.data;
}

/**
 * `path=value` pairs (as given to `--set`) as config overrides; values parse
 * like FALCONER_* variables. Reaches keys that have no default (and so no
 * variable), e.g. `analyse.mcp.url`.
 */
export function parseSetOverrides(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const path = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*$/.test(path)) {
      throw new FalconerError('USAGE', `--set expects path=value with a dotted config path, got "${pair}"`, {
        pair,
      });
    }
    out[path] = parseEnvValue(pair.slice(eq + 1));
  }
  return out;
}
