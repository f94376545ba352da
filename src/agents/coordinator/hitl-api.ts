/**
 * The human-in-the-loop HTTP API (express 5): list and read incidents,
 * approve or reject proposed actions, give verdicts, and apply the signed
 * approve / reject links sent to chat.
 *
 * Authentication: `Authorization: Bearer <token>`, compared in constant time
 * against every configured token; the token decides who the approver is (a
 * body `by` must match it), so four-eyes approvals come from two tokens.
 * `GET /api/links/:token` needs no bearer token: the signed, expiring,
 * single-use link is the credential, and its approver identity is
 * `link:<jti prefix>` (one link can give one approval).
 *
 * Errors: `{ error: { code, message } }` with 400 / 401 / 403 / 404 / 409 / 410.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { FalconerError, isFalconerError, type ErrorCode } from '../../errors.ts';
import { digestOf } from '../../store/audit-log.ts';
import type { Store } from '../../store/db.ts';
import type { Logger } from '../../telemetry/logger.ts';
import type { ApiCredential } from './config.ts';
import type { Coordinator } from './engine.ts';
import {
  getIncident,
  incidentHeader,
  listIncidents,
  loadApprovals,
  readTimeline,
  type Incident,
} from './incident-repo.ts';
import type { LinkSigner } from './link-tokens.ts';
import type { AuditSinkLike } from './peers.ts';
import { mountRuleProposalRoutes, type RuleRoutesDeps } from './rules/hitl-routes.ts';
import { INCIDENT_STATUSES, isIncidentStatus, type IncidentStatus } from './state-machine.ts';
import './errors.ts';

export interface HitlApiOptions {
  coordinator: Coordinator;
  store: Store;
  credentials: readonly ApiCredential[];
  linkSigner: LinkSigner;
  audit: AuditSinkLike;
  logger: Logger;
  /** Rule proposals (`/api/v1/rules/proposals…`); omitted = those routes are not served. */
  rules?: RuleRoutesDeps;
}

const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  HITL_BAD_REQUEST: 400,
  LINK_INVALID: 400,
  HITL_UNAUTHORIZED: 401,
  HITL_FORBIDDEN: 403,
  HITL_NOT_FOUND: 404,
  INCIDENT_NOT_FOUND: 404,
  PROPOSAL_NOT_FOUND: 404,
  APPROVAL_NOT_ALLOWED: 409,
  APPROVAL_DUPLICATE: 409,
  INCIDENT_CONFLICT: 409,
  INCIDENT_ILLEGAL_TRANSITION: 409,
  LINK_USED: 409,
  APPROVAL_EXPIRED: 410,
  LINK_EXPIRED: 410,
  RULES_PROPOSAL_NOT_FOUND: 404,
  RULES_PROPOSAL_STATE: 409,
};

const DecisionBody = z.object({ by: z.string().min(1).max(200).optional() }).strict();
const VerdictBody = z
  .object({ verdict: z.enum(['true_positive', 'false_positive']), by: z.string().min(1).max(200).optional() })
  .strict();
const Id = z.string().min(1).max(200);

function sha(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The user whose token this is; every token is compared (constant time per comparison). */
function authenticate(credentials: readonly ApiCredential[], header: string | undefined): string | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header ?? '');
  if (!m) return undefined;
  const given = sha(m[1]!);
  let user: string | undefined;
  for (const c of credentials) if (timingSafeEqual(given, sha(c.token)) && user === undefined) user = c.user;
  return user;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new FalconerError(
      'HITL_BAD_REQUEST',
      `invalid ${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'rejected'}`,
      {},
    );
  }
  return r.data;
}

function actingUser(req: Request, claimed: string | undefined): string {
  const user = userOf(req);
  if (claimed !== undefined && claimed !== user) {
    throw new FalconerError('HITL_FORBIDDEN', `this token acts as ${user}, not as ${claimed}`, {});
  }
  return user;
}

function userOf(req: Request): string {
  return (req as Request & { falconerUser: string }).falconerUser;
}

function incidentView(incident: Incident) {
  return {
    ...incidentHeader(incident),
    ...(incident.approvalExpiresAt !== undefined ? { approvalExpiresAt: incident.approvalExpiresAt } : {}),
    ...(incident.reason !== undefined ? { reason: incident.reason } : {}),
    ...(incident.verdict !== undefined ? { verdict: incident.verdict } : {}),
    ...(incident.attempts > 0 ? { attempts: incident.attempts, lastError: incident.lastError } : {}),
  };
}

export function createHitlApp(opts: HitlApiOptions): express.Express {
  const { coordinator, store, credentials, linkSigner, audit, logger } = opts;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(express.json({ limit: '16kb', strict: true }));

  const requireToken = (req: Request, _res: Response, next: NextFunction) => {
    const user = authenticate(credentials, req.headers.authorization);
    if (user === undefined) {
      next(new FalconerError('HITL_UNAUTHORIZED', 'a valid bearer token is required', {}));
      return;
    }
    (req as Request & { falconerUser: string }).falconerUser = user;
    next();
  };

  app.get('/api/incidents', requireToken, async (req, res) => {
    const raw = typeof req.query.status === 'string' ? req.query.status : undefined;
    let statuses: IncidentStatus[] | undefined;
    if (raw !== undefined && raw !== '') {
      const parts = raw.split(',');
      const bad = parts.find((p) => !isIncidentStatus(p));
      if (bad !== undefined) {
        throw new FalconerError(
          'HITL_BAD_REQUEST',
          `unknown status (use ${INCIDENT_STATUSES.join(', ')})`,
          {},
        );
      }
      statuses = parts as IncidentStatus[];
    }
    const limitRaw = typeof req.query.limit === 'string' ? Number(req.query.limit) : 200;
    if (!Number.isInteger(limitRaw) || limitRaw < 1 || limitRaw > 1000) {
      throw new FalconerError('HITL_BAD_REQUEST', 'limit must be an integer in 1..1000', {});
    }
    const incidents = await listIncidents(store.db, { ...(statuses ? { statuses } : {}), limit: limitRaw });
    res.json({ incidents: incidents.map(incidentView) });
  });

  app.get('/api/incidents/:id', requireToken, async (req, res) => {
    const id = parse(Id, req.params.id, 'incident id');
    const incident = await getIncident(store.db, id);
    const signals = await store.db
      .selectFrom('incident_signals')
      .select(['signal_id', 'received_at', 'report'])
      .where('incident_id', '=', id)
      .orderBy('received_at')
      .execute();
    res.json({
      incident: incidentView(incident),
      analysis: incident.analysis ?? null,
      proposals: incident.proposals ?? [],
      executions: incident.executions,
      approvals: await loadApprovals(store.db, id),
      timeline: await readTimeline(store.db, id),
      // Per signal, the events this incident received (an update that opened a follow-up incident
      // went there, not here).
      signals: signals.map((s) => ({
        id: s.signal_id,
        receivedAt: Number(s.received_at),
        eventIds: reportEventIds(s.report),
      })),
    });
  });

  const decision = (kind: 'approve' | 'reject') => async (req: Request, res: Response) => {
    const body = parse(DecisionBody, req.body, 'body');
    const by = actingUser(req, body.by);
    const incidentId = parse(Id, req.params.id, 'incident id');
    const proposalId = parse(Id, req.params.pid, 'proposal id');
    const out = await coordinator.decide({ incidentId, proposalId, decision: kind, by, via: 'api' });
    res.json({ incidentId, proposalId, decision: kind, by, ...out });
  };
  app.post('/api/incidents/:id/proposals/:pid/approve', requireToken, decision('approve'));
  app.post('/api/incidents/:id/proposals/:pid/reject', requireToken, decision('reject'));

  app.post('/api/incidents/:id/verdict', requireToken, async (req, res) => {
    const body = parse(VerdictBody, req.body, 'body');
    const by = actingUser(req, body.by);
    const incidentId = parse(Id, req.params.id, 'incident id');
    const out = await coordinator.setVerdict({ incidentId, verdict: body.verdict, by });
    res.json({ incidentId, verdict: body.verdict, by, ...out });
  });

  app.get('/api/links/:token', async (req, res) => {
    const token = String(req.params.token);
    let claims;
    try {
      claims = linkSigner.verify(token);
      const out = await coordinator.decide({
        incidentId: claims.incidentId,
        proposalId: claims.proposalId,
        decision: claims.action,
        by: `link:${claims.jti.slice(0, 8)}`,
        via: 'link',
        link: claims,
      });
      res.json({
        incidentId: claims.incidentId,
        proposalId: claims.proposalId,
        decision: claims.action,
        ...out,
      });
    } catch (err) {
      // Refused links are audited too: replays and forgeries are worth seeing.
      await audit.record({
        actor: 'link',
        action: 'link.refused',
        inputDigest: digestOf(token),
        result: isFalconerError(err) ? err.code : 'error',
        ...(claims ? { detail: { incidentId: claims.incidentId, proposalId: claims.proposalId } } : {}),
      });
      throw err;
    }
  });

  if (opts.rules !== undefined)
    mountRuleProposalRoutes(app, opts.rules, { requireToken, parse, actingUser, audit });

  app.use((_req: Request, _res: Response, next: NextFunction) => {
    next(new FalconerError('HITL_NOT_FOUND', 'no such endpoint', {}));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isFalconerError(err)) {
      const status = STATUS_OF[err.code] ?? 500;
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="falconer"');
      if (status >= 500) logger.error({ err: err.toJSON(), path: req.path }, 'HITL API error');
      res
        .status(status)
        .json({ error: { code: err.code, message: status >= 500 ? 'internal error' : err.message } });
      return;
    }
    const e = err as { type?: string; status?: number };
    if (
      e.type === 'entity.parse.failed' ||
      e.type === 'entity.too.large' ||
      e.status === 400 ||
      e.status === 413
    ) {
      res.status(e.status === 413 ? 413 : 400).json({
        error: {
          code: 'HITL_BAD_REQUEST',
          message: e.status === 413 ? 'body too large' : 'malformed JSON body',
        },
      });
      return;
    }
    logger.error({ err: err instanceof Error ? err.message : String(err), path: req.path }, 'HITL API error');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error' } });
  });
  return app;
}

export interface HitlApiServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startHitlApi(
  opts: HitlApiOptions & { host: string; port: number },
): Promise<HitlApiServer> {
  const app = createHitlApp(opts);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** The event ids of a stored signal report (empty when it cannot be read). */
function reportEventIds(report: string): string[] {
  try {
    const ids = (JSON.parse(report) as { signal?: { eventIds?: unknown } }).signal?.eventIds;
    return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}
