// One ingest is one trace across the functions: the local pipeline (every function on its own
// port, the broker delivering over HTTP) exports its spans to an OTLP/HTTP receiver on loopback,
// which then holds the api's request, each function's handling of its events, and the yt-dlp
// runs and model calls made for them, all in one trace, each span's parent among them.
// With no endpoint configured, nothing is exported.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@ytrag/function/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalServer } from '../src/index.ts'

/** A caller's own trace, which the ingest continues (W3C's example ids). */
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const CALLER_SPAN_ID = '00f067aa0ba902b7'

const EVENT_TYPE = (name: string) => `io.youtube-rag.${name}.v1`

/** Runs one ingest of one captioned video through a local server started with `env`; closes it (which flushes its spans). */
async function ingestOnce(
  fixtures: FixtureServer,
  openai: OpenAiTestServer,
  env: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-traces-'))
  const server = await startLocalServer({
    env: {
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__SERVER__PORT: '0',
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.01',
      // No schedule ticks: every span of the run is the ingest's or the job lookup's.
      YOUTUBE_RAG__BROKER__PING_SCHEDULE: 'off',
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '64',
      YOUTUBE_RAG__LOG__LEVEL: 'silent',
      ...env,
    },
  })
  try {
    const answer = await fetch(`${server.url}/v1/ingest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ url: fixtures.url('/bicycle.html') }),
    })
    expect(answer.status).toBe(202)
    const { jobId } = (await answer.json()) as { jobId: string }
    await server.broker.idle()
    const job = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as { status: string }
    expect(job.status).toBe('succeeded')
    return jobId
  } finally {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

describe('traces of one ingest', () => {
  let fixtures: FixtureServer
  let openai: OpenAiTestServer
  let receiver: OtlpReceiver
  let jobId: string
  let trace: ReceivedSpan[]

  beforeAll(async () => {
    fixtures = await startFixtureServer()
    openai = await startOpenAiTestServer()
    receiver = await startOtlpReceiver()
    jobId = await ingestOnce(
      fixtures,
      openai,
      { YOUTUBE_RAG__TELEMETRY__OTLP_ENDPOINT: receiver.url },
      { traceparent: `00-${CALLER_TRACE_ID}-${CALLER_SPAN_ID}-01` },
    )
    trace = receiver.spans.filter((span) => span.traceId === CALLER_TRACE_ID)
  }, 120_000)

  afterAll(async () => {
    await receiver?.close()
    await openai?.close()
    await fixtures?.close()
  })

  it('has spans of the api, discover, download and indexer, all in the caller’s trace', () => {
    for (const service of ['api', 'discover', 'download', 'indexer'])
      expect(
        trace.some((span) => span.service === service),
        service,
      ).toBe(true)
    // Everything else exported is the job lookup: a request of its own, a trace of its own.
    const others = receiver.spans.filter((span) => span.traceId !== CALLER_TRACE_ID)
    expect(others.map((span) => [span.service, span.name])).toEqual([['api', 'GET /v1/jobs/:jobId']])
    expect(others[0]!.parentSpanId).toBeUndefined()
  })

  it('links every span to its parent: the ingest request to the caller, each other span to one in the trace', () => {
    const ids = new Set(trace.map((span) => span.spanId))
    expect(ids.size).toBe(trace.length)
    const request = trace.filter((span) => span.parentSpanId === CALLER_SPAN_ID)
    expect(request.map((span) => [span.service, span.kind, span.name])).toEqual([['api', 'server', 'POST /v1/ingest']])
    for (const span of trace.filter((span) => span !== request[0]))
      expect(ids, `${span.service} ${span.name}`).toContain(span.parentSpanId)
  })

  it('follows the events: each function’s consumer span, named by its event type, is the child of the span that emitted it', () => {
    const byId = new Map(trace.map((span) => [span.spanId, span]))
    const consumers = trace.filter((span) => span.kind === 'consumer')
    const handled = (service: string, type: string) => {
      const span = consumers.find((candidate) => candidate.service === service && candidate.name === type)
      expect(span, `${service} handling ${type}`).toBeDefined()
      expect(span!.attributes['cloudevents.event_type']).toBe(type)
      return span!
    }
    const discovered = handled('discover', EVENT_TYPE('ingest.requested'))
    const downloaded = handled('download', EVENT_TYPE('video.discovered'))
    const indexed = handled('indexer', EVENT_TYPE('transcript.ready'))
    expect(byId.get(discovered.parentSpanId!)!.name).toBe('POST /v1/ingest')
    expect(byId.get(downloaded.parentSpanId!)).toBe(discovered)
    expect(byId.get(indexed.parentSpanId!)).toBe(downloaded)
    expect(discovered.attributes['ytrag.job_id']).toBe(jobId)
    expect(consumers.every((span) => span.error === undefined)).toBe(true)
  })

  it('has the yt-dlp runs and the model calls as child spans of the work they were made for', () => {
    const byId = new Map(trace.map((span) => [span.spanId, span]))
    const runs = trace.filter((span) => span.name.startsWith('yt-dlp '))
    expect(runs.some((span) => span.service === 'download' && span.name === 'yt-dlp captions')).toBe(true)
    for (const run of runs) expect(byId.get(run.parentSpanId!)!.service).toBe(run.service)
    const embeddings = trace.find(
      (span) =>
        span.kind === 'client' &&
        span.service === 'indexer' &&
        span.attributes['gen_ai.operation.name'] === 'embeddings',
    )
    expect(embeddings).toBeDefined()
    expect(byId.get(embeddings!.parentSpanId!)!.name).toBe(EVENT_TYPE('transcript.ready'))
  })

  it('exports nothing when no endpoint is configured', async () => {
    const before = receiver.requests
    await ingestOnce(fixtures, openai, {})
    expect(receiver.requests).toBe(before)
  }, 120_000)
})
