import { jobSchema, videoSchema } from '@ytrag/domain'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys, chunkId } from '@ytrag/stores'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { api } from '../src/index.ts'
import { askResponse } from '../src/schemas/ask.ts'
import { searchResponse } from '../src/schemas/search.ts'

const post = (fn: FunctionUnderTest, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(new URL(path, fn.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error

describe('api over HTTP', () => {
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fn = await startFunctionUnderTest(api, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: 'www.youtube.com,youtu.be,127.0.0.1:4999',
    })
    const { documents, chunks, blobs } = fn.stores
    await documents.insertVideo({
      videoId: 'vidA',
      url: 'https://www.youtube.com/watch?v=vidA',
      title: 'Indexes in depth',
    })
    await documents.updateVideo('vidA', 'index', 'done', { chunkCount: 2 })
    await blobs.put(
      blobKeys.transcript('vidA'),
      JSON.stringify({
        videoId: 'vidA',
        source: 'captions',
        language: 'en',
        segments: [{ start: 0, end: 4, text: 'hello' }],
      }),
    )
    await documents.updateVideo('vidA', 'download', 'done', {
      transcript: {
        source: 'captions',
        language: 'en',
        choice: 'original-language',
        blobKey: blobKeys.transcript('vidA'),
        segmentCount: 1,
      },
      chapters: [
        { title: 'Tables', start: 0, end: 740 },
        { title: 'Covering indexes', start: 740, end: 800 },
      ],
      liveStatus: 'was_live',
    })
    await chunks.replaceVideoChunks('vidA', [
      {
        id: chunkId('vidA', 0),
        videoId: 'vidA',
        chunkIndex: 0,
        title: 'Indexes in depth',
        url: 'https://www.youtube.com/watch?v=vidA',
        start: 0,
        end: 18,
        text: 'Welcome. Today we talk about tables.',
      },
      {
        id: chunkId('vidA', 1),
        videoId: 'vidA',
        chunkIndex: 1,
        title: 'Indexes in depth',
        url: 'https://www.youtube.com/watch?v=vidA',
        start: 754.6,
        end: 770,
        text: 'Tables are big. A covering index holds every column the query reads. So the table is never touched.',
        chapter: { title: 'Covering indexes', start: 740 },
      },
    ])
  })
  afterAll(() => fn.close())

  it('accepts an allowed URL with 202, records a queued job and hands the request to the broker', async () => {
    const answer = await post(fn, '/v1/ingest', { url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', language: 'en' })
    expect(answer.status).toBe(202)
    const { jobId, status } = (await answer.json()) as { jobId: string; status: string }
    expect(status).toBe('queued')
    const job = (await (await fetch(new URL(`/v1/jobs/${jobId}`, fn.url))).json()) as Record<string, unknown>
    expect(job).toMatchObject({
      jobId,
      status: 'queued',
      videos: { total: 0, indexed: 0, failed: 0, skipped: 0 },
      errors: [],
      skipped: [],
    })
    // The answer holds what the OpenAPI description says, and nothing it does not.
    jobSchema.parse(job)
    const sent = fn.sink.events.find((event) => event.subject === jobId)
    expect(sent?.name).toBe('ingest.requested')
    expect(sent?.data).toMatchObject({
      jobId,
      url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ',
      language: 'en',
      force: false,
    })
  })

  it('reads every form of a YouTube video URL as one canonical URL, job and event alike', async () => {
    const id = 'Xy-_3kQ9a0Z'
    const canonical = `https://www.youtube.com/watch?v=${id}`
    for (const url of [
      `https://youtu.be/${id}?si=Zp3kR-x_`,
      `https://www.youtube.com/shorts/${id}?feature=share`,
      `https://www.youtube.com/watch?v=${id}&t=90&list=PLabcdefgh`,
    ]) {
      const answer = await post(fn, '/v1/ingest', { url })
      expect(answer.status, url).toBe(202)
      const { jobId, url: jobUrl } = (await answer.json()) as { jobId: string; url: string }
      expect(jobUrl).toBe(canonical)
      expect((await fn.stores.documents.getJob(jobId))?.url).toBe(canonical)
      expect(fn.sink.events.find((event) => event.subject === jobId)?.data).toMatchObject({ url: canonical })
    }
    const whole = await post(fn, '/v1/ingest', {
      url: `https://www.youtube.com/watch?v=${id}&list=PLabcdefgh`,
      playlist: true,
    })
    expect(((await whole.json()) as { url: string }).url).toBe('https://www.youtube.com/playlist?list=PLabcdefgh')
    const bad = await post(fn, '/v1/ingest', { url: 'https://youtu.be/Xy-_3kQ9a0' })
    expect(bad.status).toBe(400)
    expect(await errorOf(bad)).toMatchObject({
      code: 'invalid_url',
      message: expect.stringMatching(/not a YouTube video id/),
    })
  })

  it.each([
    ['a missing url', {}, 'invalid_request'],
    ['a url that is not a string', { url: 42 }, 'invalid_request'],
    ['a url that is not a URL', { url: 'not a url' }, 'invalid_url'],
    ['a non-http scheme', { url: 'ftp://www.youtube.com/x' }, 'unsupported_scheme'],
    ['a javascript: URL', { url: 'javascript:alert(1)' }, 'unsupported_scheme'],
    ['a host not allowed', { url: 'https://evil.example/watch?v=x' }, 'host_not_allowed'],
    ['the cloud metadata address', { url: 'http://169.254.169.254/latest/meta-data' }, 'host_not_allowed'],
    ['a private address', { url: 'http://10.0.0.1/' }, 'host_not_allowed'],
    ['an allowed loopback host on another port', { url: 'http://127.0.0.1:5000/page.html' }, 'host_not_allowed'],
  ])('answers 400 with {error:{code,message}} for %s', async (_, body, code) => {
    const answer = await post(fn, '/v1/ingest', body)
    expect(answer.status).toBe(400)
    const error = await errorOf(answer)
    expect(error.code).toBe(code)
    expect(error.message.length).toBeGreaterThan(5)
  })

  it('answers 400 for malformed JSON and keeps serving', async () => {
    for (const body of ['{"url":', 'nonsense', '[1,2']) {
      const answer = await post(fn, '/v1/ingest', body)
      expect(answer.status).toBe(400)
      expect((await errorOf(answer)).code).toBe('invalid_json')
    }
    expect((await fetch(new URL('/health/live', fn.url))).status).toBe(200)
  })

  it('answers 404 with an error body for unknown jobs, videos and routes', async () => {
    for (const [method, path, code] of [
      ['GET', '/v1/jobs/nope', 'job_not_found'],
      ['GET', '/v1/videos/nope', 'video_not_found'],
      ['GET', '/v1/videos/nope/transcript', 'video_not_found'],
      ['DELETE', '/v1/videos/nope', 'video_not_found'],
      ['GET', '/v2/anything', 'not_found'],
    ] as const) {
      const answer = await fetch(new URL(path, fn.url), { method })
      expect(answer.status, `${method} ${path}`).toBe(404)
      expect((await errorOf(answer)).code).toBe(code)
    }
  })

  it('searches with deep links to the moment', async () => {
    const answer = await post(fn, '/v1/search', { query: 'covering index', limit: 5 })
    expect(answer.status).toBe(200)
    const { hits } = searchResponse.parse(await answer.json())
    expect(hits[0]).toMatchObject({
      videoId: 'vidA',
      start: 754.6,
      url: 'https://www.youtube.com/watch?v=vidA&t=754s',
      chapter: { title: 'Covering indexes', start: 740 },
    })
    expect(hits[0]!.score).toBeGreaterThan(0)
    // A chunk of a video without chapters (or before the first) has none.
    const untitled = (await (await post(fn, '/v1/search', { query: 'welcome tables' })).json()) as {
      hits: { start: number }[]
    }
    expect(untitled.hits.find((hit) => hit.start === 0)).not.toHaveProperty('chapter')
    // Where the words came from, per hit.
    expect(hits[0]).toMatchObject({ transcript: { source: 'captions', language: 'en' } })
    expect((await post(fn, '/v1/search', { query: '' })).status).toBe(400)
    expect((await post(fn, '/v1/search', { query: 'x', limit: 0 })).status).toBe(400)
    expect((await post(fn, '/v1/search', { query: 'x', filter: { videoIds: 'vidA' } })).status).toBe(400)
    const filtered = (await (
      await post(fn, '/v1/search', { query: 'covering index', filter: { videoIds: ['other'] } })
    ).json()) as { hits: unknown[] }
    expect(filtered.hits).toEqual([])
  })

  it('answers extractively with citations, as JSON or as a stream', async () => {
    const answer = askResponse.parse(
      await (await post(fn, '/v1/ask', { question: 'What does a covering index hold?' })).json(),
    )
    expect(answer.mode).toBe('extractive')
    expect(answer.citations[0]).toMatchObject({
      n: 1,
      start: 754.6,
      url: 'https://www.youtube.com/watch?v=vidA&t=754s',
      chapter: { title: 'Covering indexes', start: 740 },
    })
    expect(answer.answer).toContain('A covering index holds every column the query reads. [1]')

    const stream = await post(fn, '/v1/ask', { question: 'covering index' }, { accept: 'text/event-stream' })
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/)
    const text = await stream.text()
    expect(text).toMatch(/event: citations\ndata: \[\{"n":1/)
    expect(text).toMatch(/event: answer/)
    expect(text).toMatch(/event: done\ndata: \{"mode":"extractive","answer":"From the videos:\\n- A covering index/)
  })

  it('shows a video, its transcript, and deletes it with its chunks and blobs', async () => {
    const video = videoSchema.parse(await (await fetch(new URL('/v1/videos/vidA', fn.url))).json())
    expect(video).toMatchObject({
      status: 'indexed',
      transcript: { source: 'captions', language: 'en', choice: 'original-language' },
      liveStatus: 'was_live',
    })
    expect(video.chapters?.map((chapter) => chapter.title)).toEqual(['Tables', 'Covering indexes'])
    const transcript = (await (await fetch(new URL('/v1/videos/vidA/transcript', fn.url))).json()) as {
      segments: unknown[]
    }
    expect(transcript.segments).toEqual([{ start: 0, end: 4, text: 'hello' }])
    const list = (await (await fetch(new URL('/v1/videos?limit=10', fn.url))).json()) as {
      items: { videoId: string }[]
      nextCursor: string | null
    }
    expect(list.items.map((item) => item.videoId)).toContain('vidA')
    expect((await fetch(new URL('/v1/videos?limit=0', fn.url))).status).toBe(400)

    const deleted = await fetch(new URL('/v1/videos/vidA', fn.url), { method: 'DELETE' })
    expect(deleted.status).toBe(200)
    expect(await deleted.json()).toMatchObject({ videoId: 'vidA', deleted: true, chunks: 2, blobs: 1 })
    expect(await fn.stores.chunks.countVideo('vidA')).toBe(0)
    expect(await fn.stores.blobs.get(blobKeys.transcript('vidA'))).toBeUndefined()
    expect((await fetch(new URL('/v1/videos/vidA', fn.url))).status).toBe(404)
  })

  it('serves its OpenAPI description and docs', async () => {
    const openapi = (await (await fetch(new URL('/openapi.json', fn.url))).json()) as {
      paths: Record<string, unknown>
      components: {
        schemas: Record<string, { properties: Record<string, { items?: { properties: Record<string, unknown> } }> }>
      }
    }
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/v1/ingest', '/v1/search', '/v1/ask']))
    // Generated from the response schemas: the chapter of a hit and of a citation, a job's skipped videos.
    expect(Object.keys(openapi.components.schemas.SearchHit?.properties ?? {})).toEqual(
      expect.arrayContaining(['chapter', 'transcript']),
    )
    expect(openapi.components.schemas.Citation?.properties).toHaveProperty('chapter')
    expect(openapi.components.schemas.AskResponse?.properties).toHaveProperty('warning')
    expect(Object.keys(openapi.components.schemas.Job?.properties ?? {})).toEqual(
      expect.arrayContaining(['skipped', 'audioMinutes']),
    )
    expect(openapi.components.schemas.Video?.properties).toHaveProperty('skipReason')
    // The docs page is Swagger UI over /openapi.json, its files served from here: no CDN.
    const page = await (await fetch(new URL('/docs', fn.url))).text()
    expect(page).toContain("url: '/openapi.json'")
    expect(page).not.toMatch(/(src|href)="https?:/)
    for (const [asset, type] of [
      ['/docs/swagger-ui-bundle.js', 'text/javascript'],
      ['/docs/swagger-ui.css', 'text/css'],
    ] as const) {
      const answer = await fetch(new URL(asset, fn.url))
      expect(answer.status, asset).toBe(200)
      expect(answer.headers.get('content-type')).toContain(type)
      expect((await answer.text()).length).toBeGreaterThan(10_000)
    }
    expect(await (await fetch(new URL('/docs/swagger-ui-bundle.js', fn.url))).text()).toContain('SwaggerUIBundle')
  })
})
