/**
 * Generic JSON webhook: the NotifyInput as JSON. With a secret, each request
 * carries `X-Falconer-Timestamp: <unix ms>` and
 * `X-Falconer-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`,
 * so a receiver can check origin and integrity and refuse replays.
 */
import { createHmac } from 'node:crypto';
import type { NotifyInput } from '../../contracts.ts';
import { postJson } from '../http.ts';
import type { Notifier } from '../types.ts';

export interface WebhookOptions {
  readonly name: string;
  readonly url: string;
  readonly secret?: string;
  readonly now?: () => number;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookNotifier(opts: WebhookOptions): Notifier {
  const now = opts.now ?? Date.now;
  return {
    kind: 'webhook',
    name: opts.name,
    async send(message: NotifyInput, signal) {
      const body = JSON.stringify(message);
      const headers: Record<string, string> = {
        'x-falconer-event': message.kind,
        'x-falconer-delivery': message.dedupeKey,
      };
      if (opts.secret !== undefined) {
        const ts = String(now());
        headers['x-falconer-timestamp'] = ts;
        headers['x-falconer-signature'] = signWebhook(opts.secret, ts, body);
      }
      await postJson(opts.name, opts.url, body, headers, signal);
    },
  };
}
