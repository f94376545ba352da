/**
 * Tests that need a real component (Python with scikit-learn, a Kafka broker,
 * the opa CLI, Chromium…) call this. Absent component: skip with a visible
 * reason, except under FALCONER_REQUIRE_ALL=1 (CI), where a skip is a failure.
 */
import type { TestContext } from 'node:test';

export const REQUIRE_ALL = process.env.FALCONER_REQUIRE_ALL === '1';

/** Returns true when the test may proceed; otherwise skips (or throws in CI). */
export function requireComponent(t: TestContext, name: string, available: boolean, why = ''): boolean {
  if (available) return true;
  const reason = `${name} is not available${why ? `: ${why}` : ''}`;
  if (REQUIRE_ALL) throw new Error(`FALCONER_REQUIRE_ALL=1 but ${reason}`);
  t.skip(reason);
  return false;
}
