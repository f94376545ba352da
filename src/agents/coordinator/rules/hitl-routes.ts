/**
 * The HITL API's rule-proposal routes, mounted by hitl-api.ts behind the same
 * bearer token and error style:
 *
 *   GET  /api/v1/rules/proposals[?status=pending|approved|rejected]
 *   GET  /api/v1/rules/proposals/:id          (YAML, rules, backtest report, delivery)
 *   POST /api/v1/rules/proposals/:id/approve  {by?}  → delivered (git branch, ConfigMap), sent to detect
 *   POST /api/v1/rules/proposals/:id/reject   {reason?, by?}
 *
 * A decision on a proposal that is not pending is 409 (RULES_PROPOSAL_STATE);
 * refusals are audited like accepted decisions.
 */
import type { Express, RequestHandler, Request, Response } from 'express';
import { z } from 'zod';
import { FalconerError, isFalconerError } from '../../../errors.ts';
import type { RuleApprovalGate, StoredProposal } from '../../../rules/delivery/approval.ts';
import type { SqlRuleProposalStore } from '../../../rules/delivery/sql-store.ts';
import { digestOf } from '../../../store/audit-log.ts';
import type { AuditSinkLike } from '../peers.ts';

export interface RuleRoutesDeps {
  store: SqlRuleProposalStore;
  gate: RuleApprovalGate;
}

export interface RuleRoutesHelpers {
  requireToken: RequestHandler;
  parse: <T>(schema: z.ZodType<T>, value: unknown, what: string) => T;
  actingUser: (req: Request, claimed: string | undefined) => string;
  audit: AuditSinkLike;
}

const Id = z.string().min(1).max(200);
const Status = z.enum(['pending', 'approved', 'rejected']);
const ApproveBody = z.object({ by: z.string().min(1).max(200).optional() }).strict();
const RejectBody = z
  .object({ by: z.string().min(1).max(200).optional(), reason: z.string().max(2000).optional() })
  .strict();

function summary(p: StoredProposal) {
  return {
    id: p.id,
    incidentId: p.incidentId,
    status: p.status,
    rules: p.rules.map((r) => r.name),
    accepted: p.report.accepted,
    incidentHits: p.report.incident.hits,
    incidentEvents: p.report.incident.events,
    baselineHits: p.report.baseline.hits,
    baselineEvents: p.report.baseline.events,
    createdAt: p.createdAt,
    ...(p.decidedAt !== undefined ? { decidedAt: p.decidedAt, decidedBy: p.decidedBy } : {}),
    ...(p.reason !== undefined && p.reason !== '' ? { reason: p.reason } : {}),
  };
}

export function mountRuleProposalRoutes(app: Express, deps: RuleRoutesDeps, h: RuleRoutesHelpers): void {
  const base = '/api/v1/rules/proposals';

  app.get(base, h.requireToken, async (req, res) => {
    const raw =
      typeof req.query.status === 'string' && req.query.status !== '' ? req.query.status : undefined;
    const status = raw === undefined ? undefined : h.parse(Status, raw, 'status');
    res.json({ proposals: (await deps.store.list(status)).map(summary) });
  });

  app.get(`${base}/:id`, h.requireToken, async (req, res) => {
    const id = h.parse(Id, req.params.id, 'proposal id');
    const p = await deps.store.get(id);
    if (p === undefined)
      throw new FalconerError('RULES_PROPOSAL_NOT_FOUND', `no rule proposal ${id}`, { id });
    res.json({
      proposal: {
        ...summary(p),
        yaml: p.yaml,
        ruleDetails: p.rules,
        report: p.report,
        delivery: p.delivery ?? null,
      },
    });
  });

  const decide = (kind: 'approve' | 'reject') => async (req: Request, res: Response) => {
    const body =
      kind === 'approve' ? h.parse(ApproveBody, req.body, 'body') : h.parse(RejectBody, req.body, 'body');
    const by = h.actingUser(req, body.by);
    const id = h.parse(Id, req.params.id, 'proposal id');
    try {
      const p =
        kind === 'approve'
          ? await deps.gate.approve(id, by)
          : await deps.gate.reject(id, by, (body as z.infer<typeof RejectBody>).reason ?? '');
      res.json({ proposal: { ...summary(p), delivery: p.delivery ?? null } });
    } catch (err) {
      // A refused decision (already decided, unknown id) is worth an audit record too.
      await h.audit.record({
        actor: by,
        action: `rule.${kind}.refused`,
        inputDigest: digestOf({ proposalId: id, kind }),
        result: isFalconerError(err) ? err.code : 'error',
        detail: { proposalId: id },
      });
      throw err;
    }
  };
  app.post(`${base}/:id/approve`, h.requireToken, decide('approve'));
  app.post(`${base}/:id/reject`, h.requireToken, decide('reject'));
}
