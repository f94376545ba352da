import { Counter, Histogram, type Registry } from 'prom-client';

/** Ingest metrics, registered on the registry the caller passes (one per process or per test). */
export interface IngestMetrics {
  readonly eventsReceived: Counter;
  readonly eventsAccepted: Counter;
  readonly eventsRejected: Counter<'reason'>;
  readonly requests: Counter<'status'>;
  readonly bodyBytes: Histogram<'encoding'>;
  readonly decompressedBytes: Counter;
}

/** Reason label values: the event error codes, lower-cased without the EVENT_ prefix, plus refusals. */
export function rejectReasonLabel(code: string): string {
  return code.replace(/^EVENT_|^INGEST_/, '').toLowerCase();
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  const existingBytes = registry.getSingleMetric('falconer_ingest_request_body_bytes');
  return {
    eventsReceived: counter(
      registry,
      'falconer_events_received_total',
      'Events received by the ingest (good and bad).',
    ),
    eventsAccepted: counter(
      registry,
      'falconer_events_accepted_total',
      'Events validated, normalized and taken by the sink.',
    ),
    eventsRejected: counter(
      registry,
      'falconer_events_rejected_total',
      'Events refused by the ingest, by reason.',
      ['reason'],
    ),
    requests: counter(
      registry,
      'falconer_ingest_requests_total',
      'HTTP requests to the ingest, by response status.',
      ['status'],
    ),
    bodyBytes:
      (existingBytes as Histogram<'encoding'> | undefined) ??
      new Histogram({
        name: 'falconer_ingest_request_body_bytes',
        help: 'Request body size on the wire, in bytes, by Content-Encoding.',
        labelNames: ['encoding'],
        buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
        registers: [registry],
      }),
    decompressedBytes: counter(
      registry,
      'falconer_ingest_decompressed_bytes_total',
      'Request body bytes after Content-Encoding was undone.',
    ),
  };
}
