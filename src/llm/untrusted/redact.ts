/**
 * Secret redaction for anything that may reach an LLM prompt. Event fields are
 * written by the workload (an attacker, or a careless operator who typed a
 * password on a command line): tokens, keys and passwords in them must never
 * leave the cluster in a prompt. Patterns err on the side of redacting.
 */

export interface RedactionRule {
  readonly kind: string;
  readonly pattern: RegExp;
  /** Builds the replacement from the match groups; the secret part becomes `[REDACTED:<kind>]`. */
  readonly replace: (marker: string, ...groups: string[]) => string;
}

const marker = (kind: string): string => `[REDACTED:${kind}]`;

/** Database and remote-shell clients whose `-p`/`-a` flag carries a password. */
const PASSWORD_FLAG_CLIENTS = String.raw`(?:mysql|mysqldump|mysqladmin|mariadb(?:-dump|-admin)?|sshpass|mongo|mongosh|mongodump)`;

// Order matters: multi-line blocks and structured forms first, then the shapes that are tokens on their own.
export const REDACTION_RULES: readonly RedactionRule[] = [
  {
    kind: 'private-key',
    pattern:
      /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY( BLOCK)?-----|$)/g,
    replace: (m) => m,
  },
  {
    kind: 'authorization',
    pattern:
      /\b((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic|token|digest|aws4-hmac-sha256|negotiate)\s+)?[^\s'",;]+/gi,
    replace: (m, prefix, scheme) => `${prefix}${scheme ? `${scheme} ` : ''}${m}`,
  },
  {
    kind: 'bearer',
    pattern: /\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'url-credentials',
    pattern: /\b([a-z][a-z0-9+.-]{1,20}:\/\/)([^\s:@/'"]{1,256}):([^\s@/'"]{1,256})@/gi,
    replace: (m, scheme, user) => `${scheme}${user}:${m}@`,
  },
  {
    kind: 'url-token',
    pattern:
      /([?&;](?:access_token|refresh_token|id_token|token|auth|key|api_key|apikey|secret|password|passwd|pwd|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|client_secret)=)[^&\s#'"]+/gi,
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'password-flag',
    pattern:
      /(--(?:password|passwd|pass|token|secret|api-key|apikey|access-key|secret-key|client-secret|auth-token|private-key)(?:=|\s+))(?:"[^"]*"|'[^']*'|[^\s'"]+)/gi,
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'password-flag',
    pattern: new RegExp(
      String.raw`(\b${PASSWORD_FLAG_CLIENTS}\b[^|;&\n]*?\s-p\s?)(?:"[^"]*"|'[^']*'|[^\s'"-][^\s'"]*)`,
      'gi',
    ),
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'password-flag',
    pattern: /(\bredis-cli\b[^|;&\n]*?\s-a\s+)(?:"[^"]*"|'[^']*'|[^\s'"]+)/gi,
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'secret-assignment',
    pattern:
      /\b([A-Za-z0-9_.-]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Za-z0-9_.-]*\\?"?\s*[=:]\s*)(?:"[^"]*"|'[^']*'|[^\s'",;&]+)/gi,
    replace: (m, prefix) => `${prefix}${m}`,
  },
  {
    kind: 'jwt',
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g,
    replace: (m) => m,
  },
  {
    kind: 'aws-access-key',
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: (m) => m,
  },
  {
    kind: 'github-token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255})\b/g,
    replace: (m) => m,
  },
  {
    kind: 'slack-token',
    pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}|hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g,
    replace: (m) => m,
  },
  {
    kind: 'api-key',
    // OpenAI/Anthropic/Stripe/GitLab/Google-style prefixed keys.
    pattern:
      /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|[rs]k_live_[A-Za-z0-9]{16,}|glpat-[A-Za-z0-9_-]{20,}|AIza[A-Za-z0-9_-]{35})/g,
    replace: (m) => m,
  },
];

/** `text` with every secret-looking part replaced by `[REDACTED:<kind>]`. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const rule of REDACTION_RULES) {
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      // args: match, ...groups, offset, whole string (no named groups in these patterns).
      const groups = args.slice(1, -2).map((g) => (typeof g === 'string' ? g : ''));
      return rule.replace(marker(rule.kind), ...groups);
    });
  }
  return out;
}
