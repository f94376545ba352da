/**
 * Mattermost incoming webhook: POST `{text, attachments}` (Mattermost's
 * message-attachment format). Untrusted text only in code spans/blocks; the
 * approve/reject links are Markdown links to our own signed URLs.
 */
import type { NotifyInput } from '../../contracts.ts';
import { codeBlock, inlineCode } from '../escape.ts';
import { viewOf } from '../format.ts';
import { postJson } from '../http.ts';
import type { Notifier } from '../types.ts';

export interface MattermostOptions {
  readonly name: string;
  readonly url: string;
  readonly channel?: string;
  readonly username?: string;
}

export function mattermostPayload(
  n: NotifyInput,
  opts: { channel?: string; username?: string } = {},
): Record<string, unknown> {
  const v = viewOf(n);
  const headline = `**${v.title}** · severity **${v.severity}** · incident ${inlineCode(v.incidentId, 100)}`;
  const fields: { short: boolean; title: string; value: string }[] = [
    { short: true, title: 'Workload', value: inlineCode(v.workload) },
    { short: true, title: 'Severity', value: v.severity },
  ];
  if (v.image !== undefined) fields.push({ short: false, title: 'Image', value: inlineCode(v.image) });
  if (v.verdict !== undefined) {
    fields.push({ short: true, title: 'Verdict', value: `${v.verdict} (${(v.confidence ?? 0).toFixed(2)})` });
  }
  if (v.newActivity !== undefined)
    fields.push({ short: false, title: 'New activity', value: inlineCode(v.newActivity, 600) });
  if (v.techniques !== undefined)
    fields.push({ short: false, title: 'ATT&CK', value: inlineCode(v.techniques, 600) });
  const actions = v.proposals.map((p) => {
    const links = [
      p.approveUrl === undefined ? undefined : `[Approve](${p.approveUrl})`,
      p.rejectUrl === undefined ? undefined : `[Reject](${p.rejectUrl})`,
    ].filter((x) => x !== undefined);
    return `- ${inlineCode(p.kind, 40)} on ${inlineCode(p.target)}${p.dryRun ? ' (dry run)' : ''}${links.length > 0 ? ` — ${links.join(' · ')}` : ''}`;
  });
  if (actions.length > 0) fields.push({ short: false, title: 'Proposed actions', value: actions.join('\n') });
  const attachment: Record<string, unknown> = {
    fallback: `${v.title}: ${v.severity} incident ${v.incidentId}`.slice(0, 300),
    color: v.colour,
    title: `${v.title} (${v.severity})`,
    text: v.explanation === undefined ? '' : codeBlock(v.explanation, 3000),
    fields,
    footer: 'Falconer',
  };
  if (v.incidentUrl !== undefined) attachment.title_link = v.incidentUrl;
  return {
    text: headline,
    ...(opts.username !== undefined && { username: opts.username }),
    ...(opts.channel !== undefined && { channel: opts.channel }),
    attachments: [attachment],
  };
}

export function mattermostNotifier(opts: MattermostOptions): Notifier {
  return {
    kind: 'mattermost',
    name: opts.name,
    async send(message, signal) {
      const body = JSON.stringify(mattermostPayload(message, opts));
      await postJson(opts.name, opts.url, body, {}, signal);
    },
  };
}
