/**
 * Dead-letter records: the rejected record's bytes unchanged, its key, and the
 * reason plus its origin in headers, so an operator can replay or inspect it.
 */
import { describeError, isFalconerError } from '../errors.ts';
import { truncateForMessage } from '../events/truncate.ts';

export const DLQ_HEADERS = {
  code: 'falconer-error-code',
  message: 'falconer-error-message',
  topic: 'falconer-source-topic',
  partition: 'falconer-source-partition',
  offset: 'falconer-source-offset',
  timestamp: 'falconer-source-timestamp',
  rejectedAt: 'falconer-rejected-at',
} as const;

/** Reason messages quote attacker input at most this long. */
const MAX_MESSAGE = 512;

export interface RejectedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly timestampMs: number;
  readonly key: Buffer | undefined;
  readonly value: Buffer | undefined;
  readonly error: unknown;
}

export interface DeadLetter {
  readonly key: Buffer | undefined;
  readonly value: Buffer;
  readonly headers: Map<string, string>;
}

export function errorCodeOf(err: unknown): string {
  return isFalconerError(err) ? err.code : 'BUS_DECODE_FAILED';
}

export function deadLetterOf(rejected: RejectedRecord, now = Date.now()): DeadLetter {
  const headers = new Map<string, string>([
    [DLQ_HEADERS.code, errorCodeOf(rejected.error)],
    [DLQ_HEADERS.message, truncateForMessage(describeError(rejected.error), MAX_MESSAGE)],
    [DLQ_HEADERS.topic, rejected.topic],
    [DLQ_HEADERS.partition, String(rejected.partition)],
    [DLQ_HEADERS.offset, rejected.offset.toString()],
    [DLQ_HEADERS.timestamp, String(rejected.timestampMs)],
    [DLQ_HEADERS.rejectedAt, new Date(now).toISOString()],
  ]);
  return { key: rejected.key, value: rejected.value ?? Buffer.alloc(0), headers };
}
