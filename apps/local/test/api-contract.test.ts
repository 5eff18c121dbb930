// The API's answers against its own description: /openapi.json is a valid OpenAPI 3.1 document,
// and every route, called over HTTP on the whole pipeline (a fixture video ingested by the real
// yt-dlp, a fixture channel, a chat model on loopback), answers with a status the document lists
// and a body its schema for that status accepts. The response schemas are strict, so a field the
// API gives and the document does not describe fails here.
import { Validator } from '@seriousme/openapi-schema-validator'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import {
  CHAPTERED_VIDEO,
  fixtureChannel,
  fixturePages,
  startFixtureServer,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLocalServer, type LocalServer } from '../src/index.ts'

type Operation = { responses: Record<string, { content?: Record<string, unknown> }> }
type OpenApiDocument = { openapi: string; paths: Record<string, Record<string, Operation>> }

describe('the API against its OpenAPI document', () => {
  let fixtures: FixtureServer
  let openai: OpenAiTestServer
  let server: LocalServer
  let dir: string
  let document: OpenApiDocument
  let ajv: Ajv2020
  /** Each operation answered with a success, as `METHOD /path/{template}`. */
  const succeeded = new Set<string>()

  /** A JSON Pointer token: `/v1/jobs/{jobId}` → `~1v1~1jobs~1{jobId}`. */
  const token = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1')

  /**
   * Calls the API and checks the answer against the document: the status is one the operation
   * lists, and a JSON body is valid against that status's schema. Gives the body.
   */
  async function call<T = Record<string, unknown>>(
    method: string,
    template: string,
    options: { path?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: T }> {
    const response = await fetch(`${server.url}${options.path ?? template}`, {
      method,
      // A local server takes a POST only as JSON, body or not.
      headers: {
        ...(options.body === undefined && method !== 'POST' ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    })
    const operation = document.paths[template]?.[method.toLowerCase()]
    expect(operation, `${method} ${template} is in the document`).toBeDefined()
    const described = operation!.responses[String(response.status)]
    expect(described, `${method} ${template} answered ${response.status}, which the document lists`).toBeDefined()
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await response.json()) as T
    const pointer = `openapi#/paths/${token(template)}/${method.toLowerCase()}/responses/${response.status}/content/${token('application/json')}/schema`
    const validate = ajv.getSchema(pointer)
    expect(validate, pointer).toBeDefined()
    if (!validate!(body))
      expect.fail(
        `${method} ${options.path ?? template} ${response.status}: ${ajv.errorsText(validate!.errors)}\n${JSON.stringify(body, null, 2)}`,
      )
    if (response.status < 300) succeeded.add(`${method} ${template}`)
    return { status: response.status, body }
  }

  beforeAll(async () => {
    fixtures = await startFixtureServer({ videos: [CHAPTERED_VIDEO], pages: fixturePages([CHAPTERED_VIDEO]) })
    openai = await startOpenAiTestServer({ chatScript: () => 'Covering indexes hold every column a query reads [1].' })
    dir = mkdtempSync(join(tmpdir(), 'ytrag-contract-'))
    server = await startLocalServer({
      env: {
        YOUTUBE_RAG__STORAGE__DIR: dir,
        YOUTUBE_RAG__SERVER__PORT: '0',
        YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
        YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.01',
        YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
        YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '16',
        YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '10000',
        YOUTUBE_RAG__LOG__LEVEL: 'silent',
      },
    })
    document = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenApiDocument
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
    ajv.addSchema(document, 'openapi')
  }, 60_000)

  afterAll(async () => {
    await server?.close()
    await openai?.close()
    await fixtures?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0')
    const result = await new Validator().validate(document as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
  })

  it('answers every route as the document says, with a video ingested through the pipeline', async () => {
    const accepted = await call<{ jobId: string }>('POST', '/v1/ingest', {
      body: { url: fixtures.url('/chapters.html') },
    })
    expect(accepted.status).toBe(202)
    await server.broker.idle()
    const job = await call<{ status: string; audioMinutes: object }>('GET', '/v1/jobs/{jobId}', {
      path: `/v1/jobs/${accepted.body.jobId}`,
    })
    expect(job.body).toMatchObject({ status: 'succeeded', audioMinutes: { queued: 0, done: 0 } })

    const page = await call<{ items: { videoId: string }[] }>('GET', '/v1/videos', { path: '/v1/videos?limit=5' })
    const videoId = page.body.items[0]!.videoId
    const video = await call('GET', '/v1/videos/{videoId}', { path: `/v1/videos/${videoId}` })
    expect(video.body).toMatchObject({
      status: 'indexed',
      chapters: expect.any(Array),
      transcript: { source: 'captions' },
      // The player page's `<video src>`, on the site's own host: what the web page plays it with.
      mediaUrl: fixtures.url('/media/chapters.mp4'),
    })
    const transcript = await call<{ segments: unknown[] }>('GET', '/v1/videos/{videoId}/transcript', {
      path: `/v1/videos/${videoId}/transcript`,
    })
    expect(transcript.body.segments.length).toBeGreaterThan(0)

    const search = await call<{ hits: { chapter?: object; transcript?: object }[] }>('POST', '/v1/search', {
      body: { query: 'covering index', limit: 3 },
    })
    expect(search.body.hits[0]).toMatchObject({
      chapter: expect.any(Object),
      transcript: { source: 'captions', language: 'en' },
    })
    const answer = await call<{ mode: string; citations: unknown[] }>('POST', '/v1/ask', {
      body: { question: 'What does a covering index hold?' },
    })
    expect(answer.body.mode).toBe('generative')
    expect(answer.body.citations.length).toBeGreaterThan(0)
    // The chat model failing: the passages instead, with a warning that says so.
    openai.failNext('/v1/chat/completions', {
      status: 400,
      body: { error: { message: 'model not found', type: 'invalid_request_error' } },
    })
    const fallback = await call<{ mode: string; warning?: string }>('POST', '/v1/ask', {
      body: { question: 'What does a covering index hold?' },
    })
    expect(fallback.body).toMatchObject({ mode: 'extractive', warning: expect.stringMatching(/chat model failed/) })

    const channel = fixtureChannel(fixtures, {
      channelId: 'UCcontractChannel0000001',
      title: 'Contract talks',
      videos: [{ name: 'chapters', title: 'Database indexes, chapter by chapter', published: new Date() }],
    })
    const subscribed = await call<{ channel: { channelId: string } }>('POST', '/v1/channels', {
      body: { url: channel.url, backfill: 0 },
    })
    expect(subscribed.status).toBe(201)
    const again = await call('POST', '/v1/channels', { body: { url: channel.url, intervalSeconds: 3600 } })
    expect(again.status).toBe(200)
    const channelId = subscribed.body.channel.channelId
    await call('GET', '/v1/channels')
    await call('GET', '/v1/channels/{channelId}', { path: `/v1/channels/${channelId}` })
    expect(
      (await call('POST', '/v1/channels/{channelId}/sync', { path: `/v1/channels/${channelId}/sync` })).status,
    ).toBe(202)
    await server.broker.idle()
    await call('DELETE', '/v1/channels/{channelId}', { path: `/v1/channels/${channelId}` })
    await call('DELETE', '/v1/videos/{videoId}', { path: `/v1/videos/${videoId}` })

    const every = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect([...succeeded].sort()).toEqual(every.sort())
  }, 120_000)

  it('answers errors with the one error body, a code from the closed set', async () => {
    const cases: [
      string,
      string,
      { path?: string; body?: unknown; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      ['GET', '/v1/jobs/{jobId}', { path: '/v1/jobs/no-such-job' }, 404, 'job_not_found'],
      ['GET', '/v1/videos/{videoId}', { path: '/v1/videos/no-such-video' }, 404, 'video_not_found'],
      [
        'GET',
        '/v1/videos/{videoId}/transcript',
        { path: '/v1/videos/no-such-video/transcript' },
        404,
        'video_not_found',
      ],
      ['DELETE', '/v1/channels/{channelId}', { path: '/v1/channels/UCnone' }, 404, 'channel_not_found'],
      ['GET', '/v1/videos', { path: '/v1/videos?limit=0' }, 400, 'invalid_request'],
      ['GET', '/v1/videos', { path: '/v1/videos?cursor=garbage' }, 400, 'invalid_cursor'],
      ['POST', '/v1/ingest', { body: { url: 'https://evil.example/watch?v=x' } }, 400, 'host_not_allowed'],
      ['POST', '/v1/search', { body: { query: 7 } }, 400, 'invalid_request'],
      ['POST', '/v1/ask', { body: { question: 'x', filter: { unknown: true } } }, 400, 'invalid_request'],
      ['POST', '/v1/channels', { body: {} }, 400, 'invalid_request'],
      [
        'POST',
        '/v1/search',
        { body: { query: 'x' }, headers: { 'content-type': 'text/plain' } },
        415,
        'unsupported_media_type',
      ],
      [
        'POST',
        '/v1/ingest',
        { body: { url: 'https://www.youtube.com/watch?v=x' }, headers: { origin: 'https://evil.example' } },
        403,
        'forbidden_origin',
      ],
      [
        'DELETE',
        '/v1/videos/{videoId}',
        { path: '/v1/videos/x', headers: { 'sec-fetch-site': 'cross-site' } },
        403,
        'forbidden_origin',
      ],
      [
        'POST',
        '/v1/search',
        { body: { query: 'x', filter: { videoIds: ['v'.repeat(300_000)] } } },
        413,
        'body_too_large',
      ],
    ]
    for (const [method, template, options, status, code] of cases) {
      const answer = await call<{ error: { code: string; message: string } }>(method, template, options)
      expect(answer.status, `${method} ${options.path ?? template}`).toBe(status)
      expect(answer.body.error.code).toBe(code)
      expect(answer.body.error.message).not.toBe('')
    }
  })
})
