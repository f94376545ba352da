/**
 * Turns a generated scenario into the NDJSON byte stream that `falconer replay`
 * would read from a file, registering every attack event with the tracker on the way.
 */
import { createNormalizer } from '../events/normalize.ts';
import { generateScenario } from '../scenario/generate.ts';
import { alertLine } from '../scenario/serialize.ts';
import type { ScenarioOptions } from '../scenario/types.ts';
import type { ScenarioLabel } from '../scenario/types.ts';

/** Told about each attack event before it is sent, and about each chunk as it goes out. */
export interface AttackObserver {
  expect(eventId: string, timeMs: number, label: ScenarioLabel): void;
  chunkSent?(): void;
}

const CHUNK_LINES = 256;

export async function* scenarioNdjson(
  opts: ScenarioOptions,
  tracker: AttackObserver,
  cluster: string,
): AsyncGenerator<string> {
  const normalize = createNormalizer({ cluster });
  let chunk: string[] = [];
  for (const { alert, label } of generateScenario(opts)) {
    if (label.label === 'attack') {
      const event = normalize(alert);
      tracker.expect(event.id, event.timeMs, label);
    }
    chunk.push(alertLine(alert));
    if (chunk.length === CHUNK_LINES) {
      tracker.chunkSent?.();
      yield `${chunk.join('\n')}\n`;
      chunk = [];
    }
  }
  if (chunk.length > 0) tracker.chunkSent?.();
  if (chunk.length > 0) yield `${chunk.join('\n')}\n`;
}
