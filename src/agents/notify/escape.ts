/**
 * Attacker-controlled text (pod names, rule names, the analysis, which quotes
 * command lines) in chat formats. The rule everywhere: such text goes into
 * code spans / code blocks, where chat servers render no Markdown, expand no
 * mentions (@channel, @here, <!channel>) and make no links; the characters
 * that could close the code span or forge markup are neutralized. Only our
 * own URLs (approve/reject links, the incident link) are ever links.
 */

// C0/C1 controls except \n, bidi and zero-width controls: never shown.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Cut to `max` UTF-16 units (not inside a surrogate pair), with an ellipsis. */
export function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - 1);
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

/** One line of plain text: controls removed, newlines flattened. */
export function oneLine(s: string, max: number): string {
  return clip(s.replace(INVISIBLE, '').replace(/[\r\n]+/g, ' '), max);
}

/** Backticks cannot close a code span/block: replaced by a look-alike (U+02CB). */
function noBackticks(s: string): string {
  return s.replace(/`/g, 'ˋ');
}

/** Markdown (Mattermost) / mrkdwn (Slack) inline code span holding untrusted text. */
export function inlineCode(s: string, max = 200): string {
  const t = noBackticks(oneLine(s, max)).trim();
  return t.length === 0 ? '`-`' : `\`${t}\``;
}

/** A fenced code block holding untrusted multi-line text. */
export function codeBlock(s: string, max = 3000): string {
  const t = noBackticks(clip(s.replace(INVISIBLE, ''), max));
  return `\`\`\`\n${t}\n\`\`\``;
}

/** Slack requires &, < and > escaped in every text (they delimit <!channel> and <url|label>). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Our own link, made safe for Markdown link syntax: http(s) only, and the
 * characters that end a Markdown/Slack link target percent-encoded.
 */
export function safeUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  return u.href.replace(
    /[()<>|\s`\\[\]"]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}
