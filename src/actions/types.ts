/**
 * One interface for every remediation action. An action is pure: from a
 * target and its params it renders the exact Kubernetes operations it would
 * perform. The executor (execute.ts) does the I/O and rollback generically
 * from those operations, so no action talks to the cluster itself.
 */
import type { z } from 'zod';
import type { ActionKind, ActionTarget } from '../agents/contracts.ts';

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
};

/**
 * What the executor does with one object: create it, merge-patch an existing
 * object (the object is the patch body), or delete it (the object names it).
 */
export type OperationVerb = 'create' | 'merge-patch' | 'delete';

export interface Operation {
  verb: OperationVerb;
  object: KubeObject;
  /** A create of a Cilium policy may fall back to this object when cilium.io/v2 is not served. */
  fallback?: KubeObject;
}

export interface Action<P extends CommonParams = CommonParams> {
  readonly kind: ActionKind;
  /** Destructive actions always need a human, whatever an LLM says (policy enforces it). */
  readonly destructive: boolean;
  readonly description: string;
  /** Which target fields the action needs. */
  readonly needs: ReadonlyArray<'pod' | 'image' | 'owner'>;
  readonly params: z.ZodType<P>;
  /** Pods touched right now (null when the action's scope is not pods, e.g. a cluster-wide admission rule). */
  podsAffected(target: ActionTarget, params: P): number | null;
  render(target: ActionTarget, params: P): Operation[];
}

/** Params every action carries, so rendering is reproducible from the proposal alone. */
export interface CommonParams {
  incidentId: string;
  /** When the proposal was made (ms since epoch): timestamps in rendered objects come from here. */
  at: number;
}
