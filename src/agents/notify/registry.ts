/**
 * Sink kind → factory. A new sink registers here; nothing else switches on kinds.
 * Credentials (webhook URLs, HMAC secrets) are read from files at start, never logged.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { FalconerError } from '../../errors.ts';
import type { SinkConfig } from './config.ts';
import { fileNotifier } from './sinks/file.ts';
import { mattermostNotifier } from './sinks/mattermost.ts';
import { slackNotifier } from './sinks/slack.ts';
import { webhookNotifier } from './sinks/webhook.ts';
import type { Notifier } from './types.ts';
import './errors.ts';

export interface SinkContext {
  readonly dataDir: string;
  /** Where the file sink prints its one-line summaries (default: stdout). */
  readonly print?: (line: string) => void;
}

export type NotifierFactory<C extends SinkConfig = SinkConfig> = (config: C, ctx: SinkContext) => Notifier;

function resolve(ctx: SinkContext, file: string): string {
  return isAbsolute(file) ? file : join(ctx.dataDir, file);
}

function readSecretFile(ctx: SinkContext, file: string, what: string): string {
  const path = resolve(ctx, file);
  let value: string;
  try {
    value = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new FalconerError(
      'NOTIFY_CONFIG',
      `cannot read the ${what} file ${path}`,
      { path },
      { cause: err },
    );
  }
  if (value.length === 0)
    throw new FalconerError('NOTIFY_CONFIG', `the ${what} file ${path} is empty`, { path });
  return value;
}

function urlOf(
  ctx: SinkContext,
  c: { url?: string | undefined; urlFile?: string | undefined; kind: string },
): string {
  if (c.url !== undefined) return c.url;
  if (c.urlFile !== undefined) {
    const url = readSecretFile(ctx, c.urlFile, `${c.kind} webhook URL`);
    if (!/^https?:\/\//.test(url)) {
      throw new FalconerError(
        'NOTIFY_CONFIG',
        `the ${c.kind} webhook URL file does not hold an http(s) URL`,
        {
          path: resolve(ctx, c.urlFile),
        },
      );
    }
    return url;
  }
  throw new FalconerError('NOTIFY_CONFIG', `${c.kind} sink needs url or urlFile`, {});
}

const factories = new Map<string, NotifierFactory>();

export function registerNotifier<K extends SinkConfig['kind']>(
  kind: K,
  factory: NotifierFactory<Extract<SinkConfig, { kind: K }>>,
): void {
  factories.set(kind, factory as NotifierFactory);
}

registerNotifier('file', (c, ctx) =>
  fileNotifier({
    name: c.name ?? c.kind,
    path: resolve(ctx, c.file),
    print: c.console ? (ctx.print ?? ((line) => void process.stdout.write(`${line}\n`))) : undefined,
  }),
);
registerNotifier('mattermost', (c, ctx) =>
  mattermostNotifier({
    name: c.name ?? c.kind,
    url: urlOf(ctx, c),
    username: c.username,
    ...(c.channel !== undefined && { channel: c.channel }),
  }),
);
registerNotifier('slack', (c, ctx) => slackNotifier({ name: c.name ?? c.kind, url: urlOf(ctx, c) }));
registerNotifier('webhook', (c, ctx) =>
  webhookNotifier({
    name: c.name ?? c.kind,
    url: c.url,
    ...(c.secretFile !== undefined && { secret: readSecretFile(ctx, c.secretFile, 'webhook secret') }),
  }),
);

export function createNotifier(config: SinkConfig, ctx: SinkContext): Notifier {
  const factory = factories.get(config.kind);
  if (factory === undefined) {
    throw new FalconerError('NOTIFY_CONFIG', `unknown notification sink kind "${config.kind}"`, {
      kind: config.kind,
    });
  }
  return factory(config, ctx);
}
