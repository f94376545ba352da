/** The action catalogue: one registry, looked up by kind. */
import type { ActionKind } from '../agents/contracts.ts';
import { FalconerError } from '../errors.ts';
import './errors.ts';
import type { Action, CommonParams } from './types.ts';
import { labelPod } from './kinds/label-pod.ts';
import { annotatePod } from './kinds/annotate-pod.ts';
import { isolatePod } from './kinds/isolate-pod.ts';
import { deletePod } from './kinds/delete-pod.ts';
import { scaleOwnerToZero } from './kinds/scale-owner.ts';
import { blockImage } from './kinds/block-image.ts';
import { emitEvent } from './kinds/emit-event.ts';

const ACTIONS: ReadonlyMap<string, Action> = new Map<string, Action>(
  [labelPod, annotatePod, isolatePod, deletePod, scaleOwnerToZero, blockImage, emitEvent].map(
    (a) => [a.kind, a as unknown as Action] as const,
  ),
);

export function listActions(): Action[] {
  return [...ACTIONS.values()];
}

export function getAction(kind: string): Action {
  const action = ACTIONS.get(kind);
  if (action === undefined) {
    throw new FalconerError('ACTION_UNKNOWN', `unknown action kind '${kind.slice(0, 64)}'`, {
      kind: kind.slice(0, 64),
      known: [...ACTIONS.keys()],
    });
  }
  return action;
}

export function isKnownAction(kind: string): kind is ActionKind {
  return ACTIONS.has(kind);
}

/** Parses params with the action's schema; a clear error instead of a half-rendered object. */
export function parseParams(action: Action, params: unknown): CommonParams {
  const parsed = action.params.safeParse(params);
  if (!parsed.success) {
    throw new FalconerError(
      'ACTION_INVALID_PARAMS',
      `invalid params for ${action.kind}: ${parsed.error.message.slice(0, 400)}`,
      {
        kind: action.kind,
      },
    );
  }
  return parsed.data;
}
