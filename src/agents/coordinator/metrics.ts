/** The coordinator's Prometheus metrics; incident counts are read from the database at scrape time. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Store } from '../../store/db.ts';

export interface CoordinatorMetrics {
  transitions: Counter<'to'>;
  peerFailures: Counter<'skill'>;
  peerCalls: Counter<'skill' | 'outcome'>;
}

export function createCoordinatorMetrics(registry: Registry, store: Store): CoordinatorMetrics {
  new Gauge({
    name: 'falconer_coordinator_incidents',
    help: 'Incidents by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await store.db
        .selectFrom('incidents')
        .select((eb) => ['status', eb.fn.countAll().as('n')])
        .groupBy('status')
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
  new Gauge({
    name: 'falconer_coordinator_incidents_retrying',
    help: 'Open incidents whose current step failed and is being retried (a peer is failing)',
    registers: [registry],
    async collect() {
      const row = await store.db
        .selectFrom('incidents')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('attempts', '>', 0)
        .where('status', 'not in', ['resolved', 'dismissed'])
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  new Gauge({
    name: 'falconer_coordinator_outbox_pending',
    help: 'Notifications and feedback decided but not yet delivered',
    registers: [registry],
    async collect() {
      const row = await store.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  return {
    transitions: new Counter({
      name: 'falconer_coordinator_transitions_total',
      help: 'Incident state transitions, by target state',
      labelNames: ['to'],
      registers: [registry],
    }),
    peerFailures: new Counter({
      name: 'falconer_coordinator_peer_failures_total',
      help: 'Failed calls to peer agents (each is retried with backoff)',
      labelNames: ['skill'],
      registers: [registry],
    }),
    peerCalls: new Counter({
      name: 'falconer_coordinator_peer_calls_total',
      help: 'Calls to peer agents by outcome',
      labelNames: ['skill', 'outcome'],
      registers: [registry],
    }),
  };
}
