/** The helm binary and the default rendering, shared by the chart tests of one file. */
import type { TestContext } from 'node:test';
import { requireComponent } from '../support/components.ts';
import { renderChart, type Rendered } from './render.ts';
import { findTool, WHY_MISSING } from './tools.ts';

export const HELM = findTool('helm');

export function needHelm(t: TestContext): boolean {
  return requireComponent(t, 'helm', HELM !== undefined, WHY_MISSING);
}

const cache = new Map<string, Rendered>();

/** Renders once per distinct values object per process. */
export function rendered(values: Record<string, unknown> = {}): Rendered {
  const key = JSON.stringify(values);
  let r = cache.get(key);
  if (r === undefined) {
    r = renderChart(HELM!, values);
    cache.set(key, r);
  }
  return r;
}
