/**
 * W3C Trace Context (`traceparent`) and OpenTelemetry spans.
 *
 * Every A2A message carries a traceparent; the trace id goes on every log
 * line, incident and audit record. Spans are exported over OTLP/HTTP only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set (initTracing); without it spans are
 * still created (ids, parentage, traceparent propagation) but nothing records them.
 */
import { randomBytes } from 'node:crypto';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** Trace flags; bit 0 = sampled. */
  readonly flags: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a traceparent header value; undefined when invalid (per W3C: then start a new trace). */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff') return undefined;
  // Version 00 has exactly four fields; later versions may append more.
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, flags: parseInt(flags!, 16) };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.flags & 0xff).toString(16).padStart(2, '0')}`;
}

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (hex !== zero) return hex;
  }
}

export function newSpanId(): string {
  return randomHex(8, ZERO_SPAN);
}

/** A new root trace context (sampled). */
export function newTraceContext(): TraceContext {
  return { traceId: randomHex(16, ZERO_TRACE), spanId: newSpanId(), flags: 1 };
}

/** A child of `parent`: same trace id and flags, a new span id. */
export function childTraceContext(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: newSpanId(), flags: parent.flags };
}

/** A fresh traceparent string for a new trace. */
export function newTraceparent(): string {
  return formatTraceparent(newTraceContext());
}

// --- OpenTelemetry ---

let provider: NodeTracerProvider | undefined;
const TRACER_NAME = 'falconer';

export interface TracingHandle {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Installs the OTLP/HTTP exporter when an endpoint is configured (argument or
 * OTEL_EXPORTER_OTLP_ENDPOINT). The exporter itself reads the standard
 * OTEL_EXPORTER_OTLP_* variables (headers, timeout). Safe to call twice (a
 * second call racing the first's imports may install its own provider; agents call it once).
 */
export async function initTracing(opts: { serviceName: string; endpoint?: string }): Promise<TracingHandle> {
  const endpoint = opts.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return { enabled: false, shutdown: async () => {} };
  if (provider === undefined) {
    // Loaded only when tracing is on: the SDK and exporter cost every agent start ~0.3 CPU-s otherwise.
    const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] =
      await Promise.all([
        import('@opentelemetry/exporter-trace-otlp-http'),
        import('@opentelemetry/resources'),
        import('@opentelemetry/sdk-trace-node'),
      ]);
    const base = endpoint.replace(/\/+$/, '');
    const url =
      opts.endpoint !== undefined || !process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        ? `${base}/v1/traces`
        : undefined;
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'service.namespace': 'falconer' }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(url ? { url } : {}))],
    });
  }
  const installed = provider;
  return {
    enabled: true,
    shutdown: async () => {
      if (provider === installed) provider = undefined;
      await installed.shutdown();
    },
  };
}

function tracer(): Tracer | undefined {
  return provider?.getTracer(TRACER_NAME);
}

export type FalconerSpanKind = 'server' | 'client' | 'internal';

/** A span, recorded by OpenTelemetry when tracing is on, with its W3C identity always available. */
export interface FalconerSpan {
  readonly context: TraceContext;
  readonly traceId: string;
  /** The traceparent naming this span as parent (send it downstream). */
  readonly traceparent: string;
  setAttributes(attributes: Attributes): void;
  /** Marks the span failed; the message must be safe to export. */
  fail(message: string): void;
  end(): void;
}

const KIND: Record<FalconerSpanKind, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
};

/**
 * Starts a span as a child of `parent` (a traceparent string or context; an
 * invalid or missing one starts a new trace, per W3C).
 */
export function startSpan(
  name: string,
  opts: { parent?: string | TraceContext; kind?: FalconerSpanKind; attributes?: Attributes } = {},
): FalconerSpan {
  const parent = typeof opts.parent === 'string' ? parseTraceparent(opts.parent) : opts.parent;
  const t = tracer();
  let span: Span | undefined;
  let ctx: TraceContext;
  if (t) {
    const parentCtx = parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.spanId,
          traceFlags: parent.flags,
          isRemote: true,
        })
      : ROOT_CONTEXT;
    span = t.startSpan(
      name,
      { kind: KIND[opts.kind ?? 'internal'], attributes: opts.attributes ?? {} },
      parentCtx,
    );
    const sc = span.spanContext();
    ctx = { traceId: sc.traceId, spanId: sc.spanId, flags: sc.traceFlags };
  } else {
    ctx = parent ? childTraceContext(parent) : newTraceContext();
  }
  let ended = false;
  return {
    context: ctx,
    traceId: ctx.traceId,
    traceparent: formatTraceparent(ctx),
    setAttributes: (attributes) => span?.setAttributes(attributes),
    fail: (message) => span?.setStatus({ code: SpanStatusCode.ERROR, message }),
    end: () => {
      if (ended) return;
      ended = true;
      span?.end();
    },
  };
}
