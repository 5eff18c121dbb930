// Issue 10's sink refusal test: every function of the pipeline, each served over real HTTP on
// loopback, sends its events to a sink of its own (as `K_SINK` is in the cluster) that stands
// in front of the local broker. For one (function, event type) pair at a time, the sink answers
// the first send of that type with 503 (a Broker ingress that is briefly overloaded) and takes
// every later one. A 503 from the sink makes the function's `emit` throw, the handler answer
// 500, and the broker redeliver the event the function was handling: the pipeline must then
// still complete, every video indexed once, as in a run where nothing was refused.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { api } from '@ytrag/api'
import { createLocalBroker, knativeBaseDir, readBrokerWiring, type LocalBroker } from '@ytrag/broker'
import { loadConfig } from '@ytrag/config'
import { deadLetter } from '@ytrag/dead-letter'
import { discover } from '@ytrag/discover'
import { download } from '@ytrag/download'
import { eventFromRequest, eventType, httpSink, PING_EVENT_TYPE, type EventName } from '@ytrag/events'
import { CloudEvent } from 'cloudevents'
import {
  createFunctionApps,
  openDependencies,
  serveApp,
  type FunctionDefinition,
  type RunningServer,
} from '@ytrag/function'
import { indexer } from '@ytrag/indexer'
import { createLogger } from '@ytrag/logging'
import { HARBOUR_STORY, makeSpeechFixture } from '@ytrag/media/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import type { Stores } from '@ytrag/stores'
import { transcribe } from '@ytrag/transcribe'
import {
  fixtureChannel,
  loadCaptionFixture,
  startFixtureServer,
  type FixtureChannel,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { firstCues } from './chaos-harness.ts'

const FUNCTIONS: FunctionDefinition[] = [api, discover, download, transcribe, indexer, deadLetter]

interface SinkRecord {
  fn: string
  type: string
  subject: string
}

interface Pipeline {
  apiUrl: string
  stores: Stores
  broker: LocalBroker
  /** The sends each function's sink refused (503), and those it took and handed to the broker. */
  refused: SinkRecord[]
  accepted: SinkRecord[]
  call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>
  /** Resolves once no delivery is queued, in flight or waiting for a retry. */
  settle(): Promise<void>
  /** The warnings and errors every function and the broker logged, for failure messages. */
  log(): string
  close(): Promise<void>
}

/** A loopback HTTP server: the sink one function emits to. */
async function listen(handler: (request: Request) => Promise<Response>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const headers = new Headers()
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(key, value)
      const request = new Request(`http://sink${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers,
        body: Buffer.concat(chunks),
      })
      handler(request).then(
        async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers))
          res.end(Buffer.from(await response.arrayBuffer()))
        },
        (error: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain' })
          res.end(error.message)
        },
      )
    })
  })
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server }
}

/**
 * The local server's wiring, built here so each function's sink can be one of ours: the real
 * function apps over one set of embedded stores, each served on loopback, the local broker
 * routing by the Triggers in knative/base and delivering over HTTP. `refuse` names the pair
 * whose first send gets a 503.
 */
async function startPipeline(
  env: Record<string, string>,
  refuse?: { fn: string; event: EventName },
): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'ytrag-sink-refusal-'))
  const fullEnv = { YOUTUBE_RAG__STORAGE__DIR: dir, ...env }
  const config = loadConfig(fullEnv)
  const lines: string[] = []
  // One short line per record: the function, what it said, about which event, and why.
  const destination = {
    write(line: string) {
      try {
        const record = JSON.parse(line) as {
          level: string
          function: string
          msg: string
          type?: string
          subject?: string
          err?: { message?: string }
        }
        lines.push(
          `${record.function} ${record.level}: ${record.msg} [${record.type ?? ''} ${record.subject ?? ''}]${record.err?.message ? ` ${record.err.message}` : ''}`,
        )
      } catch {
        lines.push(line.trimEnd())
      }
    },
  }
  const logger = (name: string) => createLogger({ name, level: 'warn', destination })
  const opened = await openDependencies(config, { env: fullEnv, logger: logger('local'), rateLimited: false })
  const functionUrls: Record<string, string> = {}
  const broker = createLocalBroker({
    wiring: readBrokerWiring(knativeBaseDir),
    backoffScale: config.broker.backoffScale,
    logger: {
      info: () => undefined,
      warn: (obj, msg) => void lines.push(`broker warn: ${msg} ${JSON.stringify(obj).slice(0, 300)}`),
      error: (obj, msg) => void lines.push(`broker error: ${msg} ${JSON.stringify(obj).slice(0, 300)}`),
    },
    async deliver(service, request) {
      const target = functionUrls[service]
      if (!target) return new Response(`no function ${service}`, { status: 503 })
      return fetch(target, { method: 'POST', headers: request.headers, body: await request.text() })
    },
  })
  const refused: SinkRecord[] = []
  const accepted: SinkRecord[] = []
  const servers: { close(): Promise<void> }[] = []
  let apiUrl = ''
  for (const definition of FUNCTIONS) {
    const fn = definition.name
    const sink = await listen(async (request) => {
      const event = await eventFromRequest(request)
      const record = { fn, type: event.type, subject: event.subject ?? '' }
      if (
        refuse &&
        fn === refuse.fn &&
        event.type === eventType(refuse.event) &&
        !refused.some((r) => r.fn === fn && r.type === record.type)
      ) {
        refused.push(record)
        return new Response('the broker ingress is overloaded', { status: 503 })
      }
      await broker.send(event)
      accepted.push(record)
      return new Response(null, { status: 202 })
    })
    servers.push({ close: () => new Promise((done) => sink.server.close(() => done())) })
    // As npm start serves them: deliveries go to each function's internal listener, users to the api's own port.
    const { app, internal } = createFunctionApps(definition, {
      config,
      sink: httpSink(sink.url),
      logger: logger(fn),
      ...opened,
    })
    const running: RunningServer = await serveApp(internal, { port: 0, hostname: '127.0.0.1', handleSignals: false })
    servers.push(running)
    functionUrls[fn] = `http://127.0.0.1:${running.port}/`
    if (definition.publicApi) {
      const publicServer = await serveApp(app, { port: 0, hostname: '127.0.0.1', handleSignals: false })
      servers.push(publicServer)
      apiUrl = `http://127.0.0.1:${publicServer.port}`
    }
  }
  return {
    apiUrl,
    stores: opened.stores,
    broker,
    refused,
    accepted,
    async call<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${apiUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      })
      return { status: response.status, body: (await response.json()) as T }
    },
    settle: () => broker.idle(),
    log: () => lines.slice(-30).join('\n'),
    async close() {
      await broker.close()
      await Promise.all(servers.map((server) => server.close()))
      await opened.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

interface JobView {
  status: string
  videos: { total: number; indexed: number; failed: number }
  errors: { videoId?: string; message: string }[]
}
interface VideoView {
  videoId: string
  status: string
  chunkCount: number
  error?: string
  stages: Record<string, { status: string }>
  transcript?: { source: string }
}

/** What a finished run left: the job, and each video's status and chunks as reported and as indexed. */
async function outcome(pipeline: Pipeline, jobId: string, videoIds: string[]) {
  const job = (await pipeline.call<JobView>('GET', `/v1/jobs/${jobId}`)).body
  const videos: Record<string, { status: string; chunkCount: number; indexed: number; stages: string }> = {}
  for (const videoId of videoIds) {
    const video = (await pipeline.call<VideoView>('GET', `/v1/videos/${videoId}`)).body
    videos[videoId] = {
      status: video.status,
      chunkCount: video.chunkCount,
      indexed: await pipeline.stores.chunks.countVideo(videoId),
      stages: Object.entries(video.stages)
        .map(([stage, state]) => `${stage} ${state.status}`)
        .join(', '),
    }
  }
  return { job, videos }
}

/** The subjects each (function, type) sent in a run, to hold a refused run to the clean one. */
const subjectsOf = (records: SinkRecord[], fn: string, name: EventName) =>
  [...new Set(records.filter((r) => r.fn === fn && r.type === eventType(name)).map((r) => r.subject))].sort()

type Path = 'captions' | 'speech' | 'uncaptioned'

interface RefusalCase {
  fn: string
  event: EventName
  path: Path
  /**
   * Whether a stage of the pipeline waits for the event. `video.indexed` only feeds the api's
   * job-progress log line, so for it "completes" means the video is indexed and the job done.
   */
  awaited: boolean
  /**
   * A refusal by the model provider (the OpenAI-compatible test server answers 400 once), for
   * the stages that report a video they cannot finish with `video.failed`: the run then ends
   * failed, with the provider's reason, instead of as the clean run does.
   */
  providerRefuses?: { path: string; stage: string; reason: RegExp }
}

/** Every function with each event type it emits on the way to an indexed video (and download's failure report). */
const CASES: RefusalCase[] = [
  { fn: 'discover', event: 'video.discovered', path: 'captions', awaited: true },
  { fn: 'download', event: 'transcript.ready', path: 'captions', awaited: true },
  { fn: 'download', event: 'audio.segment.ready', path: 'speech', awaited: true },
  { fn: 'transcribe', event: 'transcript.ready', path: 'speech', awaited: true },
  { fn: 'indexer', event: 'video.indexed', path: 'captions', awaited: false },
  { fn: 'indexer', event: 'video.indexed', path: 'speech', awaited: false },
  // The job's report of a video that cannot be indexed is an outcome too.
  { fn: 'download', event: 'video.failed', path: 'uncaptioned', awaited: true },
  {
    fn: 'transcribe',
    event: 'video.failed',
    path: 'speech',
    awaited: true,
    providerRefuses: { path: '/v1/audio/transcriptions', stage: 'transcribe', reason: /speech-to-text failed/ },
  },
  {
    fn: 'indexer',
    event: 'video.failed',
    path: 'speech',
    awaited: true,
    providerRefuses: { path: '/v1/embeddings', stage: 'index', reason: /embedding failed/ },
  },
]

describe('a sink that refuses (503) the first send of each event type', () => {
  let dir: string
  let site: FixtureServer
  let channel: FixtureChannel
  let openai: OpenAiTestServer
  const envs: Record<Path, Record<string, string>> = { captions: {}, speech: {}, uncaptioned: {} }
  const pages: Record<Path, string> = { captions: '/talks.html', speech: '/harbour.html', uncaptioned: '/mixed.html' }
  const videoIds: Record<Path, string[]> = { captions: [], speech: [], uncaptioned: [] }
  /** What a run with nothing refused gives, per path: the job, the videos, what each function sent. */
  const clean = {} as Record<Path, { outcome: Awaited<ReturnType<typeof outcome>>; accepted: SinkRecord[] }>

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-sink-refusal-fixtures-'))
    // A few seconds of espeak-ng speech: cut into segments of at most 8 s, so several are sent.
    const speech = await makeSpeechFixture(dir, HARBOUR_STORY.slice(0, 5))
    site = await startFixtureServer({
      videos: [
        {
          name: 'indexing',
          title: 'Database indexing explained',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('database-indexing') }],
        },
        {
          name: 'sourdough',
          title: 'Sourdough from scratch',
          captions: [{ lang: 'en', vtt: firstCues(loadCaptionFixture('sourdough'), 60) }],
        },
        {
          name: 'bicycle',
          title: 'A short history of the bicycle',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('bicycle-history') }],
        },
        { name: 'harbour', title: 'A day in the harbour', mediaFile: speech.file },
        { name: 'silent', title: 'A clip without captions' },
      ],
      pages: [
        { path: '/talks.html', title: 'Talks', videos: ['indexing', 'sourdough', 'bicycle'] },
        { path: '/harbour.html', title: 'Harbour', videos: ['harbour'] },
        { path: '/mixed.html', title: 'Mixed', videos: ['bicycle', 'silent'] },
      ],
    })
    channel = fixtureChannel(site, {
      channelId: 'UCsinkRefusal00000000001',
      title: 'Refusal talks',
      videos: [
        { name: 'indexing', title: 'Database indexing explained', published: new Date(Date.now() - 2 * 86_400_000) },
        { name: 'bicycle', title: 'A short history of the bicycle', published: new Date(Date.now() - 86_400_000) },
      ],
    })
    openai = await startOpenAiTestServer()
    const common = {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
      // The Broker's 3 retries from 500 ms, scaled to 25, 50, 100 ms.
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__CHANNELS__FEED_BASE_URL: site.origin,
      YOUTUBE_RAG__CHANNELS__JITTER_RATIO: '0',
      YOUTUBE_RAG__CHANNELS__HOST_SPACING_MS: '0',
      YOUTUBE_RAG__CHANNELS__BACKFILL: '2',
      OPENAI_API_KEY: '',
    }
    envs.captions = { ...common, YOUTUBE_RAG__OPENAI__BASE_URL: '' }
    envs.uncaptioned = envs.captions
    envs.speech = {
      ...common,
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__AUDIO__SEGMENT_SECONDS: '8',
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '16',
    }

    for (const path of ['captions', 'speech', 'uncaptioned'] as const) {
      const pipeline = await startPipeline(envs[path])
      try {
        const answer = await pipeline.call<{ jobId: string }>('POST', '/v1/ingest', { url: site.url(pages[path]) })
        expect(answer.status).toBe(202)
        await pipeline.settle()
        const listed = (await pipeline.call<{ items: VideoView[] }>('GET', '/v1/videos?limit=50')).body.items
        videoIds[path] = listed.map((video) => video.videoId).sort()
        clean[path] = {
          outcome: await outcome(pipeline, answer.body.jobId, videoIds[path]),
          accepted: [...pipeline.accepted],
        }
        expect(pipeline.refused).toEqual([])
        expect(pipeline.broker.stats(), pipeline.log()).toMatchObject({ deadLettered: 0, failed: 0 })
      } finally {
        await pipeline.close()
      }
    }
    // The clean runs are what the refused ones are held to; they must be what a user expects.
    expect(clean.captions.outcome.job).toMatchObject({
      status: 'succeeded',
      videos: { total: 3, indexed: 3, failed: 0 },
    })
    expect(clean.speech.outcome.job).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1, failed: 0 } })
    expect(subjectsOf(clean.speech.accepted, 'download', 'audio.segment.ready')).toEqual(['harbour-1'])
    expect(
      clean.speech.accepted.filter((r) => r.type === eventType('audio.segment.ready')).length,
    ).toBeGreaterThanOrEqual(2)
    expect(clean.uncaptioned.outcome.job).toMatchObject({
      status: 'partial',
      videos: { total: 2, indexed: 1, failed: 1 },
    })
    for (const path of ['captions', 'speech', 'uncaptioned'] as const) {
      for (const [videoId, video] of Object.entries(clean[path].outcome.videos)) {
        if (video.status === 'indexed') expect(video.indexed, videoId).toBe(video.chunkCount)
      }
    }
  }, 180_000)

  afterAll(async () => {
    await Promise.all([site?.close(), openai?.close()])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it.each(CASES)(
    '$fn: the first $event refused, the broker retries and the $path pipeline completes',
    async ({ fn, event, path, awaited, providerRefuses }) => {
      const pipeline = await startPipeline(envs[path], { fn, event })
      try {
        if (providerRefuses) openai.failNext(providerRefuses.path, { status: 400, times: 1 })
        const answer = await pipeline.call<{ jobId: string }>('POST', '/v1/ingest', { url: site.url(pages[path]) })
        expect(answer.status).toBe(202)
        await pipeline.settle()
        const after = await outcome(pipeline, answer.body.jobId, videoIds[path])
        const context = `${JSON.stringify(after, null, 1)}\nrefused: ${JSON.stringify(pipeline.refused)}\n${pipeline.log()}`
        // The refusal did happen, once, and the pair's events all went out in the end.
        expect(pipeline.refused, 'the sink refused the first send').toEqual([
          expect.objectContaining({ fn, type: eventType(event) }),
        ])
        const sent = subjectsOf(pipeline.accepted, fn, event)
        const expectedSent = providerRefuses ? videoIds[path] : subjectsOf(clean[path].accepted, fn, event)
        if (awaited) expect(sent, `every ${event} due was sent again and taken\n${context}`).toEqual(expectedSent)
        else if (sent.length < expectedSent.length)
          console.log(
            `${fn}: the refused ${event} was never sent again (only ${sent.join(', ') || 'none'} of ${expectedSent.join(', ')})`,
          )
        // The broker's retry did it, not the dead-letter sink.
        expect(pipeline.broker.stats().deadLettered, context).toBe(0)
        if (providerRefuses) {
          // Ended, with the provider's reason, as the same refusal ends a run whose sink takes everything.
          expect(after.job, context).toMatchObject({ status: 'failed', videos: { total: 1, indexed: 0, failed: 1 } })
          expect(after.job.errors, context).toEqual([
            expect.objectContaining({
              videoId: videoIds[path][0],
              stage: providerRefuses.stage,
              message: expect.stringMatching(providerRefuses.reason),
            }),
          ])
          return
        }
        const cleanJob = clean[path].outcome.job
        expect(after.job, context).toMatchObject({
          status: cleanJob.status,
          videos: cleanJob.videos,
          errors: cleanJob.errors,
        })
        expect(after.videos, context).toEqual(clean[path].outcome.videos)
      } finally {
        openai.reset()
        await pipeline.close()
      }
    },
    120_000,
  )

  it('api: the first ingest.requested refused — the client gets a clear 503, and the same POST again works', async () => {
    const pipeline = await startPipeline(envs.captions, { fn: 'api', event: 'ingest.requested' })
    try {
      const url = site.url(pages.captions)
      const first = await pipeline.call<{ error: { code: string; message: string } }>('POST', '/v1/ingest', { url })
      // The broker did not take the request: nothing was started, and the client is told to retry.
      expect(first.status).toBe(503)
      expect(first.body.error.code).toBe('broker_unavailable')
      expect(first.body.error.message).toMatch(/try again/)
      expect(pipeline.refused).toEqual([expect.objectContaining({ fn: 'api', type: eventType('ingest.requested') })])

      const again = await pipeline.call<{ jobId: string }>('POST', '/v1/ingest', { url })
      expect(again.status).toBe(202)
      await pipeline.settle()
      const after = await outcome(pipeline, again.body.jobId, videoIds.captions)
      expect(after.job, pipeline.log()).toMatchObject({
        status: 'succeeded',
        videos: clean.captions.outcome.job.videos,
      })
      expect(after.videos).toEqual(clean.captions.outcome.videos)
    } finally {
      await pipeline.close()
    }
  }, 120_000)

  it('api: the first channel.resync.requested refused — subscribing answers a clear 503, and subscribing again starts the backfill', async () => {
    const pipeline = await startPipeline(envs.captions, { fn: 'api', event: 'channel.resync.requested' })
    try {
      const first = await pipeline.call<{ error?: { code: string; message: string } }>('POST', '/v1/channels', {
        url: channel.url,
      })
      expect(pipeline.refused).toEqual([
        expect.objectContaining({ fn: 'api', type: eventType('channel.resync.requested') }),
      ])
      // What the ingest route does for the same refusal: 503, the broker named, and "try again".
      expect
        .soft({ status: first.status, code: first.body.error?.code }, JSON.stringify(first.body))
        .toEqual({ status: 503, code: 'broker_unavailable' })

      // The user does as told; the backfill the first request could not start must start now.
      const again = await pipeline.call<{ jobId?: string; channel: { channelId: string } }>('POST', '/v1/channels', {
        url: channel.url,
      })
      expect(again.status, JSON.stringify(again.body)).toBeLessThan(300)
      expect(again.body.jobId, `subscribing again started no backfill: ${JSON.stringify(again.body)}`).toEqual(
        expect.any(String),
      )
      await pipeline.settle()
      const ids = Object.values(channel.videoIds).sort()
      const after = await outcome(pipeline, again.body.jobId!, ids)
      expect(after.job, pipeline.log()).toMatchObject({
        status: 'succeeded',
        videos: { total: 2, indexed: 2, failed: 0 },
      })
    } finally {
      await pipeline.close()
    }
  }, 120_000)

  it('discover: the first channel.resync.requested of a schedule tick refused — the broker retries the tick and the due channel is synced', async () => {
    const pipeline = await startPipeline(envs.captions, { fn: 'discover', event: 'channel.resync.requested' })
    try {
      // A subscription synced every 5 s (the shortest interval), its backfill done.
      const subscribed = await pipeline.call<{ jobId: string }>('POST', '/v1/channels', {
        url: channel.url,
        backfill: 1,
        intervalSeconds: 5,
      })
      expect(subscribed.status).toBe(201)
      await pipeline.settle()
      expect((await pipeline.call<JobView>('GET', `/v1/jobs/${subscribed.body.jobId}`)).body.status).toBe('succeeded')
      const before = (await pipeline.call<{ items: VideoView[] }>('GET', '/v1/videos?limit=50')).body.items.map(
        (video) => video.videoId,
      )

      // An upload for the scheduled sync to find (an older video the backfill left out is not new).
      channel.publish({ name: 'sourdough', title: 'Sourdough from scratch', published: new Date() })
      // Once the sync is due, a tick of the PingSource (sent as the in-process schedule sends it).
      const due = Date.parse(
        (await pipeline.call<{ nextSyncAt: string }>('GET', `/v1/channels/${channel.channelId}`)).body.nextSyncAt,
      )
      await new Promise((done) => setTimeout(done, Math.max(0, due - Date.now()) + 200))
      const ping = readBrokerWiring(knativeBaseDir).pingSources![0]!
      await pipeline.broker.send(
        new CloudEvent({
          type: PING_EVENT_TYPE,
          source: `/apis/v1/namespaces/youtube-rag/pingsources/${ping.name}`,
          datacontenttype: 'application/json',
          data: JSON.parse(ping.data ?? '{}'),
        }),
      )
      await pipeline.settle()
      expect(pipeline.refused).toEqual([
        expect.objectContaining({ fn: 'discover', type: eventType('channel.resync.requested') }),
      ])
      // The sync the tick started: sent again, and run, listing the channel's newest videos.
      expect(
        subjectsOf(pipeline.accepted, 'discover', 'channel.resync.requested'),
        `the due sync was never sent\n${pipeline.log()}`,
      ).toEqual([channel.channelId])
      const synced = (
        await pipeline.call<{ lastSyncAt?: string; lastOutcome?: string }>('GET', `/v1/channels/${channel.channelId}`)
      ).body
      expect(Date.parse(synced.lastSyncAt ?? '0'), JSON.stringify(synced)).toBeGreaterThan(due)
      const videos = (await pipeline.call<{ items: VideoView[] }>('GET', '/v1/videos?limit=50')).body.items
      expect(videos.length).toBeGreaterThan(before.length)
      expect(
        videos.every((video) => video.status === 'indexed'),
        JSON.stringify(videos.map((video) => [video.videoId, video.status])),
      ).toBe(true)
    } finally {
      await pipeline.close()
    }
  }, 120_000)
})
