/**
 * How values of a bus become Kafka record bytes and back. Decoding is where
 * untrusted input is checked: a decode that throws sends the record to the
 * dead-letter topic with the error's code and message.
 */
import { decodeEventBytes } from '../events/ndjson.ts';
import { createNormalizer, type NormalizeOptions } from '../events/normalize.ts';
import type { NormalizedEvent } from '../events/types.ts';
import { UNKNOWN_HOST } from '../events/workload.ts';

export interface KafkaCodec<T> {
  encode(value: T): Buffer;
  /** Bytes → value; throws (a FalconerError, ideally) on bad input. */
  decode(bytes: Buffer): T;
  /** The bus key of a decoded value (records without a Kafka key get this one). */
  keyOf(value: T): string;
}

/** Falco's alert JSON, as falcosidekick's Kafka output writes it. */
export function falcoAlertJson(event: NormalizedEvent): string {
  return JSON.stringify({
    ...(event.hostname !== UNKNOWN_HOST && { hostname: event.hostname }),
    output: event.output,
    priority: event.priority,
    rule: event.rule,
    source: event.source,
    tags: event.tags,
    time: event.time,
    output_fields: event.fields,
  });
}

/**
 * Records are Falco alerts (JSON); values are normalized events. Encoding then
 * decoding gives the same event, id included (the id hashes content and time).
 */
export function falcoEventCodec(opts: NormalizeOptions = {}): KafkaCodec<NormalizedEvent> {
  const normalize = createNormalizer(opts);
  return {
    encode: (event) => Buffer.from(falcoAlertJson(event)),
    decode: (bytes) => decodeEventBytes(bytes, normalize),
    keyOf: (event) => event.workload.key,
  };
}

/** Any JSON value (signals, tests). */
export function jsonCodec<T>(keyOf: (value: T) => string = () => ''): KafkaCodec<T> {
  return {
    encode: (value) => Buffer.from(JSON.stringify(value)),
    decode: (bytes) => decodeEventBytes(bytes) as T,
    keyOf,
  };
}
