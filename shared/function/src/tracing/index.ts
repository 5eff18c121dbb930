// Spans of what a function does, exported over OTLP/HTTP when an endpoint is configured. Without
// one (the default) a span is only the `traceparent` its work carries on (log lines, emitted
// events), and the OpenTelemetry SDK is never loaded: functions scale from zero, and the SDK
// would be read at every cold start. With one, `./otlp/index.ts` is imported once.
import { subscribe } from 'node:diagnostics_channel'
import type { Config } from '@ytrag/config'
import type { Logger } from '@ytrag/logging'
import { PROVIDER_CALL_CHANNEL, type ProviderCallMessage } from '@ytrag/providers/diagnostics'
import { YTDLP_RUN_CHANNEL, type YtDlpRunMessage } from '@ytrag/youtube/diagnostics'
import { childTraceparent, currentScope } from '../scope/index.ts'

/** What a span stands for: a request served, an event handled, a call out, or work in between. */
export type SpanKind = 'server' | 'consumer' | 'client' | 'internal'

export type SpanAttributes = Record<string, string | number | boolean>

export interface SpanOptions {
  kind: SpanKind
  /** The W3C `traceparent` of the work that caused this one; absent or malformed, a new trace starts. */
  parent?: string | undefined
  attributes?: SpanAttributes
}

/** How a span ended: its final name (a request's route is known after routing), more attributes, an error. */
export interface SpanEnd {
  name?: string
  attributes?: SpanAttributes
  /** Set, the span's status is an error with this description. */
  error?: string
}

/** A span in progress. */
export interface TracedSpan {
  /** This span's W3C `traceparent`: the work done under it (events emitted, log lines) carries it. */
  readonly traceparent: string
  end(end?: SpanEnd): void
}

/** A finished piece of work reported afterwards (a yt-dlp run, a model call), as a child span. */
export interface FinishedSpan extends SpanOptions {
  name: string
  /** How long it took; it ended now. */
  seconds: number
  error?: string
}

/** Starts the spans of one function (its service name). */
export interface FunctionTracer {
  startSpan(name: string, options: SpanOptions): TracedSpan
  recordSpan(span: FinishedSpan): void
}

/** The tracers of a process's functions (one in the cluster, six in local mode) and their export. */
export interface Tracing {
  /** Whether spans are exported. */
  exporting: boolean
  tracerFor(functionName: string): FunctionTracer
  /** Exports what is queued, then stops (the SIGTERM path). */
  close(): Promise<void>
}

/** No export: a span is a new span id in its parent's trace (or a new trace), for logs and events. */
export const untraced: FunctionTracer = {
  startSpan: (_name, { parent }) => ({ traceparent: childTraceparent(parent), end() {} }),
  recordSpan() {},
}

const notTracing: Tracing = { exporting: false, tracerFor: () => untraced, close: async () => {} }

/**
 * Where spans go, or undefined when nowhere: `TELEMETRY__OTLP_ENDPOINT`, else OpenTelemetry's own
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the full URL) or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL),
 * as the OTLP exporter specification reads them.
 *
 * @example
 * otlpTracesUrl(config, env) // 'http://otel-collector:4318/v1/traces' for an endpoint http://otel-collector:4318
 */
export function otlpTracesUrl(config: Config, env: Record<string, string | undefined>): string | undefined {
  const base =
    config.telemetry.otlpEndpoint ??
    (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? undefined : env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined)
  if (base) return `${base.replace(/\/+$/, '')}/v1/traces`
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || undefined
}

/**
 * Opens what exports the process's spans: nothing (and nothing loaded) without an OTLP endpoint.
 * Close it after the servers stopped, so the spans of the last requests are sent.
 *
 * @example
 * ```ts
 * const tracing = await openTracing(config, process.env, logger)
 * createFunctionApps(indexer, { …, tracer: tracing.tracerFor('indexer') })
 * ```
 */
export async function openTracing(
  config: Config,
  env: Record<string, string | undefined>,
  logger: Logger,
): Promise<Tracing> {
  const url = otlpTracesUrl(config, env)
  if (!url) return notTracing
  const { otlpTracing } = await import('./otlp/index.ts')
  logger.info({ url }, 'exporting spans over OTLP/HTTP')
  recordLibrarySpans()
  return otlpTracing({ url, environment: config.app.environment, namespace: config.app.name, logger })
}

let subscribed = false

/**
 * yt-dlp runs and model calls, reported by their libraries when over, become child spans of the
 * request or event they ran for (its scope), on that function's tracer. Subscribed once per
 * process, and only when spans are exported.
 */
function recordLibrarySpans() {
  if (subscribed) return
  subscribed = true
  subscribe(YTDLP_RUN_CHANNEL, (message) => {
    const scope = currentScope()
    if (!scope) return
    const run = message as YtDlpRunMessage
    scope.tracer.recordSpan({
      name: `yt-dlp ${run.task}`,
      kind: 'internal',
      parent: scope.traceparent,
      seconds: run.seconds,
      attributes: { 'process.executable.name': 'yt-dlp', 'ytrag.ytdlp.task': run.task, 'ytrag.outcome': run.outcome },
      ...(run.outcome === 'ok' ? {} : { error: run.outcome }),
    })
  })
  subscribe(PROVIDER_CALL_CHANNEL, (message) => {
    const scope = currentScope()
    if (!scope) return
    const call = message as ProviderCallMessage
    const attributes: SpanAttributes = { 'gen_ai.operation.name': call.api, 'gen_ai.request.model': call.model }
    if (call.promptTokens !== undefined) attributes['gen_ai.usage.input_tokens'] = call.promptTokens
    if (call.completionTokens !== undefined) attributes['gen_ai.usage.output_tokens'] = call.completionTokens
    scope.tracer.recordSpan({
      // OpenTelemetry's GenAI conventions name a call `{operation} {model}`.
      name: `${call.api} ${call.model}`,
      kind: 'client',
      parent: scope.traceparent,
      seconds: call.seconds,
      attributes,
      ...(call.outcome === 'ok' ? {} : { error: call.outcome }),
    })
  })
}
