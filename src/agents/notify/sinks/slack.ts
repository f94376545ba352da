/**
 * Slack-compatible incoming webhook: Block Kit `blocks` plus a `text`
 * fallback. Untrusted text is &<>-escaped (no <!channel>, no <url|label>),
 * in code, and in text objects marked `verbatim` (no auto-linking, no mention
 * parsing). Approve/reject are URL buttons to our own signed links.
 */
import type { NotifyInput } from '../../contracts.ts';
import { clip, codeBlock, inlineCode, oneLine, slackEscape } from '../escape.ts';
import { viewOf } from '../format.ts';
import { postJson } from '../http.ts';
import type { Notifier } from '../types.ts';

export interface SlackOptions {
  readonly name: string;
  readonly url: string;
}

const mrkdwn = (text: string): Record<string, unknown> => ({ type: 'mrkdwn', text, verbatim: true });

export function slackPayload(n: NotifyInput): Record<string, unknown> {
  const v = viewOf(n);
  const code = (s: string, max?: number): string => slackEscape(inlineCode(s, max));
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${v.title}: ${v.severity}`, 150), emoji: false },
    },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Workload*\n${code(v.workload)}`),
        mrkdwn(`*Severity*\n${v.severity}`),
        mrkdwn(`*Incident*\n${code(v.incidentId, 100)}`),
        ...(v.verdict === undefined
          ? []
          : [mrkdwn(`*Verdict*\n${v.verdict} (${(v.confidence ?? 0).toFixed(2)})`)]),
        ...(v.image === undefined ? [] : [mrkdwn(`*Image*\n${code(v.image)}`)]),
      ],
    },
  ];
  if (v.newActivity !== undefined)
    blocks.push({ type: 'section', text: mrkdwn(`*New activity*\n${code(v.newActivity, 600)}`) });
  if (v.techniques !== undefined)
    blocks.push({ type: 'section', text: mrkdwn(`*ATT&amp;CK*\n${code(v.techniques, 600)}`) });
  if (v.explanation !== undefined) {
    blocks.push({ type: 'section', text: mrkdwn(clip(slackEscape(codeBlock(v.explanation, 2500)), 3000)) });
  }
  for (const p of v.proposals.slice(0, 10)) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*Proposed:* ${code(p.kind, 40)} on ${code(p.target)}${p.dryRun ? ' (dry run)' : ''}`),
    });
    const buttons: Record<string, unknown>[] = [];
    if (p.approveUrl !== undefined) {
      buttons.push({
        type: 'button',
        text: { type: 'plain_text', text: 'Approve', emoji: false },
        style: 'primary',
        url: p.approveUrl,
        action_id: clip(`approve:${p.id}`, 255),
      });
    }
    if (p.rejectUrl !== undefined) {
      buttons.push({
        type: 'button',
        text: { type: 'plain_text', text: 'Reject', emoji: false },
        style: 'danger',
        url: p.rejectUrl,
        action_id: clip(`reject:${p.id}`, 255),
      });
    }
    if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  }
  if (v.incidentUrl !== undefined) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open incident' },
          url: v.incidentUrl,
          action_id: 'open-incident',
        },
      ],
    });
  }
  blocks.push({
    type: 'context',
    elements: [mrkdwn('Falconer · values in code are event data, shown verbatim')],
  });
  return {
    text: slackEscape(oneLine(`${v.title}: ${v.severity} incident on ${v.workload}`, 300)),
    blocks,
  };
}

export function slackNotifier(opts: SlackOptions): Notifier {
  return {
    kind: 'slack',
    name: opts.name,
    async send(message, signal) {
      await postJson(opts.name, opts.url, JSON.stringify(slackPayload(message)), {}, signal);
    },
  };
}
