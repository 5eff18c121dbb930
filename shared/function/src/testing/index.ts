// Helpers for handler tests over real HTTP: a function served on a loopback port, a sink
// that is itself an HTTP server recording what it receives (as `K_SINK` would be), CloudEvents
// posted in binary or structured mode through the SDK, and an OTLP/HTTP receiver of spans.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '@ytrag/config'
import {
  createEvent,
  eventFromRequest,
  httpSink,
  requestForEvent,
  validateEvent,
  type EventData,
  type EventName,
  type ReceivedEvent,
} from '@ytrag/events'
import { createLogger } from '@ytrag/logging'
import type { Providers } from '@ytrag/providers'
import type { Stores } from '@ytrag/stores'
import { Hono } from 'hono'
import * as z from 'zod'
import { openDependencies } from '../dependencies/index.ts'
import { createFunctionApp, type FunctionDefinition } from '../factory/index.ts'
import { serveApp, type RunningServer } from '../serve/index.ts'
import { openTracing, type SpanKind } from '../tracing/index.ts'

export interface EventRecorder {
  url: string
  events: ReceivedEvent[]
  close(): Promise<void>
}

/**
 * An HTTP server that takes CloudEvents like a Broker's ingress and keeps them for assertions.
 *
 * @example
 * ```ts
 * const sink = await startEventRecorder()
 * // …a function with K_SINK = sink.url emits…
 * expect(sink.events.map((e) => e.name)).toEqual(['video.indexed'])
 * ```
 */
export async function startEventRecorder(): Promise<EventRecorder> {
  const events: ReceivedEvent[] = []
  const app = new Hono()
  app.post('/', async (c) => {
    events.push(validateEvent(await eventFromRequest(c.req.raw)))
    return c.body(null, 202)
  })
  const running = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  return { url: `http://127.0.0.1:${running.port}/`, events, close: running.close }
}

export interface FunctionUnderTest {
  url: string
  stores: Stores
  providers: Providers
  config: Config
  sink: EventRecorder
  /** Posts a catalog event to the function over HTTP and returns its answer. */
  deliver<N extends EventName>(
    name: N,
    subject: string,
    data: EventData<N>,
    options?: { mode?: 'binary' | 'structured'; id?: string },
  ): Promise<Response>
  close(): Promise<void>
}

/**
 * Serves one function on a loopback port over the stores `env` selects (by default fresh
 * embedded ones in a temporary folder). Only `env` is read, never the test process's own
 * environment, so a developer's `OPENAI_API_KEY` cannot leak into a test.
 *
 * @example
 * ```ts
 * const fn = await startFunctionUnderTest(indexer)
 * const answer = await fn.deliver('transcript.ready', videoId, data, { mode: 'structured' })
 * ```
 */
export async function startFunctionUnderTest(
  definition: FunctionDefinition,
  env: Record<string, string> = {},
  /** `sinkUrl`: where the function sends its events instead of the recorder (which then records nothing), e.g. another CloudEvents implementation's receiver. */
  options: { sinkUrl?: string } = {},
): Promise<FunctionUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), `ytrag-${definition.name}-`))
  const fullEnv = { YOUTUBE_RAG__STORAGE__DIR: dir, YOUTUBE_RAG__LOG__LEVEL: 'silent', ...env }
  const config = loadConfig(fullEnv)
  const logger = createLogger({ name: definition.name, level: config.log.level })
  const opened = await openDependencies(config, { env: fullEnv, logger, rateLimited: definition.publicApi ?? false })
  const { stores, providers } = opened
  const sink = await startEventRecorder()
  const tracing = await openTracing(config, fullEnv, logger)
  const app = createFunctionApp(definition, {
    config,
    sink: httpSink(options.sinkUrl ?? sink.url),
    logger,
    ...opened,
    tracer: tracing.tracerFor(definition.name),
  })
  const running: RunningServer = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  const url = `http://127.0.0.1:${running.port}/`
  return {
    url,
    stores,
    providers,
    config,
    sink,
    async deliver(name, subject, data, options = {}) {
      const event = createEvent(name, { function: 'test', subject, data })
      const sent = options.id ? event.cloneWith({ id: options.id }) : event
      return fetch(requestForEvent(url, sent, options.mode ?? 'binary'))
    },
    async close() {
      await running.close()
      await sink.close()
      await opened.close()
      await tracing.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One span as a collector received it, its resource's `service.name` with it. */
export interface ReceivedSpan {
  service: string
  traceId: string
  spanId: string
  /** Absent for a trace's root. */
  parentSpanId?: string
  name: string
  kind: SpanKind | 'producer'
  attributes: Record<string, string | number | boolean>
  /** The status message of a span that ended in error. */
  error?: string
}

export interface OtlpReceiver {
  /** The base URL to configure (TELEMETRY__OTLP_ENDPOINT); spans are posted to `<url>/v1/traces`. */
  url: string
  spans: ReceivedSpan[]
  /** Export requests received, spans or not. */
  requests: number
  close(): Promise<void>
}

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`))
// OTLP's JSON encoding (opentelemetry-proto, ExportTraceServiceRequest), as much as is read here.
const anyValue = z
  .object({
    stringValue: z.string(),
    intValue: z.union([z.string(), z.number()]),
    boolValue: z.boolean(),
    doubleValue: z.number(),
  })
  .partial()
const keyValues = z.array(z.object({ key: z.string(), value: anyValue })).default([])
const exportTraceServiceRequest = z.object({
  resourceSpans: z.array(
    z.object({
      resource: z.object({ attributes: keyValues }),
      scopeSpans: z.array(
        z.object({
          spans: z.array(
            z.object({
              traceId: hex(32),
              spanId: hex(16),
              parentSpanId: z.union([hex(16), z.literal('')]).optional(),
              name: z.string(),
              kind: z.number().int().min(1).max(5),
              attributes: keyValues,
              status: z.object({ code: z.number().optional(), message: z.string().optional() }).optional(),
            }),
          ),
        }),
      ),
    }),
  ),
})
const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const
const attributeValue = (value: z.infer<typeof anyValue>) =>
  value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue)
const attributesOf = (pairs: z.infer<typeof keyValues>) =>
  Object.fromEntries(pairs.map(({ key, value }) => [key, attributeValue(value)]))

/**
 * An OTLP/HTTP collector on loopback that keeps the spans exported to it (JSON encoding, what
 * @opentelemetry/exporter-trace-otlp-http sends). Anything else is refused (415, 400), so an
 * exporter speaking another encoding fails the test rather than passing it silently.
 *
 * @example
 * ```ts
 * const receiver = await startOtlpReceiver()
 * // …functions run with TELEMETRY__OTLP_ENDPOINT = receiver.url, then close (which flushes)…
 * expect(new Set(receiver.spans.map((span) => span.traceId)).size).toBe(1)
 * ```
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const receiver = { url: '', spans, requests: 0, close: async () => {} }
  const app = new Hono()
  app.post('/v1/traces', async (c) => {
    receiver.requests++
    if (!c.req.header('content-type')?.startsWith('application/json'))
      return c.text('only the JSON encoding is taken here', 415)
    const parsed = exportTraceServiceRequest.safeParse(await c.req.json().catch(() => undefined))
    if (!parsed.success) return c.text(parsed.error.message, 400)
    for (const { resource, scopeSpans } of parsed.data.resourceSpans) {
      const service = String(attributesOf(resource.attributes)['service.name'])
      for (const span of scopeSpans.flatMap((scope) => scope.spans)) {
        spans.push({
          service,
          traceId: span.traceId,
          spanId: span.spanId,
          ...(span.parentSpanId ? { parentSpanId: span.parentSpanId } : {}),
          name: span.name,
          kind: SPAN_KINDS[span.kind - 1]!,
          attributes: attributesOf(span.attributes),
          ...(span.status?.code === 2 ? { error: span.status.message ?? '' } : {}),
        })
      }
    }
    return c.json({})
  })
  const running = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
  receiver.url = `http://127.0.0.1:${running.port}`
  receiver.close = running.close
  return receiver
}
