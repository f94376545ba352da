/** A real incident in a coordinator database: the engine's own onSignal, analysis by its fake peers. */
import { harness, eventually } from '../../src/agents/coordinator/testing/harness.ts';
import { report, traceparent } from '../../src/agents/coordinator/testing/fakes.ts';
import { findIncident } from '../../src/agents/coordinator/incident-repo.ts';

/** Creates one incident on workload default/shop/web-1 (namespace shop) in the SQLite file; returns its id. */
export async function seedIncident(dbFile: string): Promise<string> {
  const h = await harness(dbFile);
  try {
    const out = await h.coordinator.onSignal(
      report({ signalId: 'sig-1', lastSeenMs: h.now.ms, eventIds: ['ev-56', 'ev-57'] }),
      { messageId: 'seed-1', traceparent: traceparent().traceparent },
    );
    await eventually(async () => (await findIncident(h.store.db, out.incidentId))?.analysis !== undefined);
    return out.incidentId;
  } finally {
    await h.close();
  }
}
