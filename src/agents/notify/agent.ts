/**
 * The notify agent: answers `incident.notify` by fanning the message out to
 * the configured sinks (file + console by default, so `falconer up` works
 * offline). Delivered keys are kept in the agent's state database, so a
 * coordinator that retries after a crash never makes it send twice.
 */
import { sql } from 'kysely';
import { defineSkill } from '../../a2a/skill.ts';
import type { Store } from '../../store/db.ts';
import { NotifyInput, NotifyOutput } from '../contracts.ts';
import type { AgentContext, AgentParts } from '../runtime.ts';
import type { DedupeStore } from './dedupe.ts';
import { createNotifyService } from './service.ts';

function sqlDedupe(store: Store): DedupeStore {
  return {
    has: async (key) =>
      (await store.db
        .selectFrom('notifications')
        .select('dedupe_key')
        .where('dedupe_key', '=', key)
        .where('sent_at', 'is not', null)
        .executeTakeFirst()) !== undefined,
    add: async (key) => {
      const now = Date.now();
      await store.db
        .insertInto('notifications')
        .values({ dedupe_key: key, incident_id: '', kind: 'delivered', created_at: now, sent_at: now })
        .onConflict((oc) => oc.column('dedupe_key').doUpdateSet({ sent_at: sql`coalesce(sent_at, ${now})` }))
        .execute();
    },
  };
}

export async function createNotifyAgent(ctx: AgentContext): Promise<AgentParts> {
  const service = createNotifyService({
    config: ctx.config.notify,
    registry: ctx.registry,
    dataDir: ctx.dataDir,
    dedupe: sqlDedupe(ctx.store),
  });
  const notify = defineSkill({
    id: 'incident.notify',
    name: 'Notify people',
    description:
      'Sends an incident card (summary, severity, explanation, proposals, approve / reject links) to chat and webhooks',
    input: NotifyInput,
    output: NotifyOutput,
    handle: async (input, skillCtx) => {
      const output = await service.handleNotify(input);
      skillCtx.logger.info(
        {
          incidentId: input.incident.id,
          kind: input.kind,
          duplicate: output.duplicate,
          deliveries: output.deliveries.map((d) => `${d.sink}:${d.ok ? 'ok' : 'failed'}`),
        },
        'notification',
      );
      return output;
    },
  });
  return {
    description: 'Tells people about incidents in chat and webhooks, with signed approve / reject links',
    skills: [notify],
    ready: () => true,
    close: () => service.close(),
  };
}
