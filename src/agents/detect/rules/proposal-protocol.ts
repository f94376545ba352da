/** Messages between detect's event loop and its rule-proposal worker thread. */
import type { EventWire, RulesProposeInput, RulesProposeOutput } from '../../contracts.ts';

/** Stored events the worker did not have yet (oldest first), with their store sequence numbers and sizes. */
export interface BaselineChunk {
  readonly type: 'events';
  readonly events: readonly EventWire[];
  readonly seqs: readonly number[];
  readonly sizes: readonly number[];
}

export interface ProposeRequest {
  readonly type: 'propose';
  readonly id: number;
  readonly input: RulesProposeInput;
  readonly incident: readonly EventWire[];
  /** Events the store no longer holds (sequence below this) leave the baseline too. */
  readonly oldestSeq: number;
}

export type ToProposalThread = BaselineChunk | ProposeRequest;

export type FromProposalThread =
  | {
      readonly type: 'proposed';
      readonly id: number;
      readonly output: RulesProposeOutput;
      readonly baselineEvents: number;
    }
  | { readonly type: 'failed'; readonly id: number; readonly code: string; readonly message: string };

export interface ProposalThreadData {
  readonly maxBaselineEvents: number;
  readonly maxBaselineBytes: number;
}
