// The OpenTelemetry SDK behind `openTracing`, imported only when an OTLP endpoint is configured.
// Each function is its own service (its own resource, so its own provider: several share a
// process in local mode); spans are batched and sent as OTLP/HTTP JSON. Parents come from W3C
// `traceparent`s (the scope's, an event's, a request's), read and written by OpenTelemetry's
// own propagator; no context manager is registered, the function layer's scope carries them.
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api'
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace'
import type { Logger } from '@ytrag/logging'
import type { FunctionTracer, SpanEnd, SpanKind as Kind, SpanOptions, TracedSpan, Tracing } from '../index.ts'

export interface OtlpTracingOptions {
  /** The collector's traces URL (…/v1/traces). */
  url: string
  /** `deployment.environment.name` and `service.namespace` of every span. */
  environment: string
  namespace: string
  /** Where failed exports are told. */
  logger: Logger
}

const KINDS: Record<Kind, SpanKind> = {
  server: SpanKind.SERVER,
  consumer: SpanKind.CONSUMER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
}

const propagator = new W3CTraceContextPropagator()

const contextOf = (traceparent: string | undefined) =>
  traceparent ? propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter) : ROOT_CONTEXT

const traceparentOf = (span: Span) => {
  const carrier: Record<string, string> = {}
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter)
  return carrier.traceparent!
}

const finish = (span: Span, { name, attributes, error }: SpanEnd = {}) => {
  if (name) span.updateName(name)
  if (attributes) span.setAttributes(attributes)
  if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error })
  span.end()
}

/** The spans of a process's functions, exported to `url` in batches. */
export function otlpTracing({ url, environment, namespace, logger }: OtlpTracingOptions): Tracing {
  // OpenTelemetry reports failed exports here (a collector down); otherwise they pass silently.
  setGlobalErrorHandler((error) => logger.warn({ err: error, url }, 'spans not exported'))
  const providers: TracerProvider[] = []
  const tracers = new Map<string, FunctionTracer>()

  const tracerFor = (functionName: string): FunctionTracer => {
    const known = tracers.get(functionName)
    if (known) return known
    const provider = new TracerProvider({
      resource: defaultResource().merge(
        resourceFromAttributes({
          'service.name': functionName,
          'service.namespace': namespace,
          'deployment.environment.name': environment,
        }),
      ),
      spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) })],
    })
    providers.push(provider)
    const tracer = provider.getTracer('@ytrag/function')
    const start = (name: string, { kind, parent, attributes }: SpanOptions, startTime?: number) =>
      tracer.startSpan(
        name,
        { kind: KINDS[kind], ...(attributes ? { attributes } : {}), ...(startTime ? { startTime } : {}) },
        contextOf(parent),
      )
    const functionTracer: FunctionTracer = {
      startSpan(name, options): TracedSpan {
        const span = start(name, options)
        return { traceparent: traceparentOf(span), end: (end) => finish(span, end) }
      },
      recordSpan({ name, seconds, error, ...options }) {
        finish(start(name, options, Date.now() - seconds * 1000), error === undefined ? {} : { error })
      },
    }
    tracers.set(functionName, functionTracer)
    return functionTracer
  }

  return {
    exporting: true,
    tracerFor,
    close: async () => {
      await Promise.all(providers.map((provider) => provider.shutdown()))
    },
  }
}
