/**
 * Signed approve / reject links for chat: `v1.<claims>.<hmac>` with the
 * claims (incident, proposal, action, expiry, a random jti) in base64url JSON
 * and an HMAC-SHA256 over them. Tokens expire, and each jti is recorded in
 * used_link_tokens when applied, so a link works once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { FalconerError } from '../../errors.ts';
import type { Database } from '../../store/schema.ts';
import './errors.ts';

export type LinkAction = 'approve' | 'reject';

const Claims = z
  .object({
    jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
    inc: z.string().min(1).max(200),
    pid: z.string().min(1).max(200),
    act: z.enum(['approve', 'reject']),
    exp: z.number().int(),
  })
  .strict();

export interface LinkClaims {
  jti: string;
  incidentId: string;
  proposalId: string;
  action: LinkAction;
  expiresAt: number;
}

const MIN_SECRET_BYTES = 32;

export class LinkSigner {
  private readonly secret: Buffer;

  constructor(
    secret: Buffer,
    private readonly clock: () => number = Date.now,
  ) {
    if (secret.length < MIN_SECRET_BYTES) {
      throw new FalconerError(
        'CONFIG_INVALID',
        `the link secret must be at least ${MIN_SECRET_BYTES} bytes`,
        {
          bytes: secret.length,
        },
      );
    }
    this.secret = Buffer.from(secret);
  }

  sign(link: { incidentId: string; proposalId: string; action: LinkAction; expiresAt: number }): string {
    const claims = {
      jti: randomBytes(18).toString('base64url'),
      inc: link.incidentId,
      pid: link.proposalId,
      act: link.action,
      exp: link.expiresAt,
    };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `v1.${body}.${this.mac(body)}`;
  }

  /** Checks signature, shape and expiry (not single use: see markLinkUsed). */
  verify(token: string): LinkClaims {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1' || token.length > 2048) throw invalid('malformed token');
    const body = parts[1]!;
    const given = Buffer.from(parts[2]!, 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('bad signature');
    let parsed: z.infer<typeof Claims>;
    try {
      parsed = Claims.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    } catch {
      throw invalid('bad claims');
    }
    if (this.clock() >= parsed.exp) {
      throw new FalconerError('LINK_EXPIRED', 'this approval link has expired', {
        incidentId: parsed.inc,
        proposalId: parsed.pid,
      });
    }
    return {
      jti: parsed.jti,
      incidentId: parsed.inc,
      proposalId: parsed.pid,
      action: parsed.act,
      expiresAt: parsed.exp,
    };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(`falconer-link.v1.${body}`).digest('base64url');
  }
}

function invalid(why: string): FalconerError {
  return new FalconerError('LINK_INVALID', `invalid approval link (${why})`, {});
}

/** Records the jti inside the caller's transaction; a second use throws LINK_USED. */
export async function markLinkUsed(trx: Kysely<Database>, claims: LinkClaims, at: number): Promise<void> {
  const result = await trx
    .insertInto('used_link_tokens')
    .values({
      jti: claims.jti,
      used_at: at,
      incident_id: claims.incidentId,
      proposal_id: claims.proposalId,
      action: claims.action,
    })
    .onConflict((oc) => oc.column('jti').doNothing())
    .executeTakeFirst();
  if (Number(result.numInsertedOrUpdatedRows ?? 0n) === 0) {
    throw new FalconerError('LINK_USED', 'this approval link has already been used', {
      incidentId: claims.incidentId,
      proposalId: claims.proposalId,
    });
  }
}

/**
 * The link secret from a file; when the file does not exist and `create` is
 * set, 32 random bytes are written there (mode 0600) — the `falconer up` case.
 */
export function loadLinkSecret(file: string, opts: { create?: boolean } = {}): Buffer {
  if (!existsSync(file)) {
    if (!opts.create) {
      throw new FalconerError('CONFIG_INVALID', 'the link secret file does not exist', { file });
    }
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const text = readFileSync(file, 'utf8').trim();
  const secret = Buffer.from(text, 'utf8');
  if (secret.length < MIN_SECRET_BYTES) {
    throw new FalconerError(
      'CONFIG_INVALID',
      `the link secret file holds fewer than ${MIN_SECRET_BYTES} bytes`,
      {
        file,
      },
    );
  }
  return secret;
}
