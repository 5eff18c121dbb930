// Spans of one function, over real HTTP, at an OTLP/HTTP receiver on loopback: a request's server
// span and an event's consumer span continue the trace they came with, the events emitted carry
// the span's own traceparent, failures are error spans, probes are not traced; with no endpoint
// the SDK is not opened and the trace still goes on in the events.
import { ConfigError, loadConfig } from '@ytrag/config'
import { createEvent, requestForEvent } from '@ytrag/events'
import { createLogger } from '@ytrag/logging'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FunctionDefinition } from '../factory/index.ts'
import {
  startFunctionUnderTest,
  startOtlpReceiver,
  type FunctionUnderTest,
  type OtlpReceiver,
} from '../testing/index.ts'
import { openTracing, otlpTracesUrl } from './index.ts'

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const PARENT_SPAN_ID = 'b7ad6b7169203331'
const PARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/

/** A route that emits an event, and a handler that fails for an empty video. */
const traced: FunctionDefinition = {
  name: 'traced',
  on: {
    'video.indexed': async (event) => {
      if (event.data.chunkCount === 0) throw new Error('no chunks')
    },
  },
  routes(app, context) {
    app.post('/things/:videoId', async (c) => {
      await context.emit('video.indexed', c.req.param('videoId'), {
        jobId: 'job-1',
        videoId: c.req.param('videoId'),
        chunkCount: 3,
      })
      return c.body(null, 204)
    })
  },
}

const indexed = (chunkCount: number, traceparent?: string) =>
  createEvent('video.indexed', {
    function: 'indexer',
    subject: 'v1',
    data: { jobId: 'job-1', videoId: 'v1', chunkCount },
    ...(traceparent ? { traceparent } : {}),
  })

describe('where spans go', () => {
  const config = (env: Record<string, string>) => loadConfig(env)

  it('the configured endpoint, else OpenTelemetry’s own variables; none by default', () => {
    expect(otlpTracesUrl(config({}), {})).toBeUndefined()
    expect(otlpTracesUrl(config({ YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: 'http://collector:4318/' }), {})).toBe(
      'http://collector:4318/v1/traces',
    )
    expect(
      otlpTracesUrl(config({ TELEMETRY__OTLP_ENDPOINT: 'https://otel.example/otlp' }), {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318',
      }),
    ).toBe('https://otel.example/otlp/v1/traces')
    expect(otlpTracesUrl(config({}), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(
      'http://collector:4318/v1/traces',
    )
    expect(
      otlpTracesUrl(config({}), {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/v1/traces',
      }),
    ).toBe('http://traces:4318/v1/traces')
    // A ConfigMap key left empty is off, not an error.
    expect(otlpTracesUrl(config({ YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: '' }), {})).toBeUndefined()
  })

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => config({ YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: 'collector:4317' })).toThrow(ConfigError)
    expect(() => config({ YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(
      /YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT/,
    )
  })

  it('exports nothing without an endpoint', async () => {
    const tracing = await openTracing(config({}), {}, createLogger({ name: 'test', level: 'silent' }))
    expect(tracing.exporting).toBe(false)
  })
})

describe('spans of a function', () => {
  let receiver: OtlpReceiver
  let fn: FunctionUnderTest

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    fn = await startFunctionUnderTest(traced, { YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: receiver.url })
    expect((await fetch(new URL('/health/ready', fn.url))).status).toBe(200)
    expect(
      (await fetch(new URL('/things/v1', fn.url), { method: 'POST', headers: { traceparent: PARENT } })).status,
    ).toBe(204)
    expect((await fetch(requestForEvent(fn.url, indexed(3, PARENT)))).status).toBe(202)
    expect((await fetch(requestForEvent(fn.url, indexed(0)))).status).toBe(500)
    // Closing flushes what the batch holds.
    await fn.close()
  })

  afterAll(async () => {
    await receiver?.close()
  })

  it('a server span per request, named by its route, child of the request’s traceparent; the event emitted carries the span’s own', () => {
    const [server] = receiver.spans.filter((span) => span.kind === 'server')
    expect(server).toMatchObject({
      service: 'traced',
      name: 'POST /things/:videoId',
      traceId: TRACE_ID,
      parentSpanId: PARENT_SPAN_ID,
    })
    expect(server!.attributes).toMatchObject({ 'http.route': '/things/:videoId', 'http.response.status_code': 204 })
    const emitted = TRACEPARENT.exec(fn.sink.events[0]!.traceparent ?? '')
    expect(emitted?.slice(1)).toEqual([TRACE_ID, server!.spanId])
  })

  it('a consumer span per event, named by its type, child of the event’s traceparent; a failed one is an error', () => {
    const consumers = receiver.spans.filter((span) => span.kind === 'consumer')
    expect(consumers.map((span) => span.name)).toEqual([
      'io.youtube-rag.video.indexed.v1',
      'io.youtube-rag.video.indexed.v1',
    ])
    expect(consumers[0]).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_SPAN_ID })
    expect(consumers[0]!.error).toBeUndefined()
    // Without a traceparent the event starts a trace of its own.
    expect(consumers[1]!.traceId).not.toBe(TRACE_ID)
    expect(consumers[1]!.parentSpanId).toBeUndefined()
    expect(consumers[1]!.error).toMatch(/500/)
  })

  it('no span for probes; nothing but these three', () => {
    expect(receiver.spans).toHaveLength(3)
    expect(receiver.spans.some((span) => span.name.includes('/health/'))).toBe(false)
  })
})

describe('without an endpoint', () => {
  it('the events emitted still continue the request’s trace, under a span id of their own', async () => {
    const fn = await startFunctionUnderTest(traced, {})
    try {
      expect(
        (await fetch(new URL('/things/v1', fn.url), { method: 'POST', headers: { traceparent: PARENT } })).status,
      ).toBe(204)
      const emitted = TRACEPARENT.exec(fn.sink.events[0]!.traceparent ?? '')
      expect(emitted?.[1]).toBe(TRACE_ID)
      expect(emitted?.[2]).not.toBe(PARENT_SPAN_ID)
    } finally {
      await fn.close()
    }
  })
})
