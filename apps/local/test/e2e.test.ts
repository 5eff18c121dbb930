// The whole pipeline as a user runs it: the server started the way `npm start` starts it,
// fixture pages on loopback read by the real yt-dlp, and only HTTP from here on.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CHAPTERED_VIDEO,
  fixturePages,
  pennyFarthingCue,
  SAMPLE_VIDEOS,
  startFixtureServer,
  type FixtureServer,
} from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { root, startServerProcess, type Hit, type Job, type ServerProcess } from './server-process.ts'

describe('local server end to end', () => {
  let fixtures: FixtureServer
  let server: ServerProcess
  let base: string
  let dir: string
  const call = <T>(method: string, path: string, body?: unknown) => server.call<T>(method, path, body)
  const ingest = (url: string, extra: object = {}) => server.ingest(url, extra)
  const waitForJob = (jobId: string) => server.waitForJob(jobId)
  const search = (query: string, limit = 10) => server.search(query, limit)

  beforeAll(async () => {
    // The sample site, plus a talk with chapters on a page of its own (not in /all.html).
    fixtures = await startFixtureServer({
      videos: [...SAMPLE_VIDEOS, CHAPTERED_VIDEO],
      pages: [
        ...fixturePages(SAMPLE_VIDEOS),
        { path: '/chapters.html', title: 'Indexes in chapters', videos: [CHAPTERED_VIDEO.name] },
      ],
    })
    dir = mkdtempSync(join(tmpdir(), 'ytrag-e2e-'))
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: dir,
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: `www.youtube.com,youtu.be,${fixtures.host}`,
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__LOG__LEVEL: 'warn',
      // The test polls jobs five times a second; a person's client stays far below the default.
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '10000',
    })
    base = server.base
  }, 90_000)

  afterAll(async () => {
    await server?.stop()
    await fixtures?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  let playlistJob: Job
  it('ingests a playlist page: every captioned video indexed, the one without captions failed with the reason', async () => {
    const started = performance.now()
    const jobId = await ingest(fixtures.url('/all.html'))
    playlistJob = await waitForJob(jobId)
    const seconds = (performance.now() - started) / 1000
    console.log(`fixture playlist (4 videos) ingested end to end in ${seconds.toFixed(1)} s`)
    expect(playlistJob.status).toBe('partial')
    expect(playlistJob.videos).toEqual({ total: 4, indexed: 3, failed: 1, skipped: 0 })
    expect(playlistJob.errors).toEqual([
      expect.objectContaining({ message: 'no captions and speech-to-text is not configured' }),
    ])
  })

  it('finds the moment a sentence is spoken, with a deep link to it in a passage at most 20 s before it', async () => {
    const hits = await search(pennyFarthingCue.phrase)
    const hit = hits[0]!
    expect(hit.text.toLowerCase()).toContain(pennyFarthingCue.phrase)
    expect(hit.start).toBeLessThanOrEqual(pennyFarthingCue.startSeconds)
    expect(hit.start).toBeGreaterThanOrEqual(pennyFarthingCue.startSeconds - 20)
    // The moment is in the cue, at the sentence that names it, whatever the passage begins with.
    expect(hit.moment).toBeGreaterThanOrEqual(pennyFarthingCue.startSeconds)
    expect(hit.moment).toBeLessThan(pennyFarthingCue.endSeconds)
    expect(hit.url).toBe(`${fixtures.url('/all.html')}#t=${Math.floor(hit.moment)}`)
    expect(hit.title).toBeTruthy()
  })

  it('answers a question with citations that link to the moment', async () => {
    const { status, body } = await call<{ answer: string; mode: string; citations: (Hit & { n: number })[] }>(
      'POST',
      '/v1/ask',
      { question: pennyFarthingCue.question },
    )
    expect(status).toBe(200)
    expect(body.mode).toBe('extractive')
    const cited = body.citations.find((citation) => citation.text.toLowerCase().includes(pennyFarthingCue.phrase))
    expect(cited, JSON.stringify(body)).toBeDefined()
    expect(cited!.start).toBeGreaterThanOrEqual(pennyFarthingCue.startSeconds - 20)
    expect(cited!.start).toBeLessThanOrEqual(pennyFarthingCue.startSeconds)
    expect(cited!.moment).toBeGreaterThanOrEqual(pennyFarthingCue.startSeconds)
    expect(cited!.moment).toBeLessThan(pennyFarthingCue.endSeconds)
    expect(body.answer).toContain(`[${cited!.n}]`)
  })

  it('keeps every sentence of rolling auto-captions once', async () => {
    const videos = (
      await call<{ items: { videoId: string; title: string; status: string; transcript?: { source: string } }[] }>(
        'GET',
        '/v1/videos?limit=50',
      )
    ).body.items
    const sourdough = videos.find((video) => video.videoId === 'all-2')!
    expect(sourdough.status).toBe('indexed')
    const { body } = await call<{ segments: { start: number; text: string }[] }>(
      'GET',
      `/v1/videos/${sourdough.videoId}/transcript`,
    )
    const texts = body.segments.map((segment) => segment.text)
    expect(texts.length).toBeGreaterThan(10)
    expect(new Set(texts).size).toBe(texts.length)
    expect(texts.slice(0, 2)).toEqual(['hi everyone and welcome back to', "the kitchen today we're making sourdough"])
    const starts = body.segments.map((segment) => segment.start)
    expect([...starts].sort((a, b) => a - b)).toEqual(starts)
  })

  it('shows each video with its stages and transcript source', async () => {
    const { body } = await call<{
      status: string
      stages: Record<string, { status: string }>
      transcript: { source: string; language: string }
      chunkCount: number
    }>('GET', '/v1/videos/all-3')
    expect(body).toMatchObject({ status: 'indexed', transcript: { source: 'captions', language: 'en' } })
    expect(body.stages).toMatchObject({
      download: { status: 'done' },
      transcribe: { status: 'skipped' },
      index: { status: 'done' },
    })
    expect(body.chunkCount).toBeGreaterThan(3)
    const silent = (await call<{ status: string; error: string }>('GET', '/v1/videos/all-4')).body
    expect(silent).toMatchObject({ status: 'failed', error: 'no captions and speech-to-text is not configured' })
  })

  it('duplicates nothing when the same playlist is ingested again', async () => {
    const before = await search('sourdough starter flour water', 50)
    const chunkCounts = async () =>
      Promise.all(
        ['all-1', 'all-2', 'all-3'].map(
          async (id) => (await call<{ chunkCount: number }>('GET', `/v1/videos/${id}`)).body.chunkCount,
        ),
      )
    const countsBefore = await chunkCounts()
    const again = await waitForJob(await ingest(fixtures.url('/all.html')))
    expect(again.videos).toEqual({ total: 4, indexed: 3, failed: 1, skipped: 0 })
    expect(await chunkCounts()).toEqual(countsBefore)
    const after = await search('sourdough starter flour water', 50)
    expect(after.map((hit) => [hit.videoId, hit.start])).toEqual(before.map((hit) => [hit.videoId, hit.start]))
    const { body } = await call<{ items: unknown[] }>('GET', '/v1/videos?limit=50')
    expect(body.items).toHaveLength(4)
  })

  it('ingests a single video page and re-indexes it when forced', async () => {
    const job = await waitForJob(await ingest(fixtures.url('/indexing.html')))
    expect(job).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1, failed: 0 } })
    const forced = await waitForJob(await ingest(fixtures.url('/indexing.html'), { force: true }))
    expect(forced.status).toBe('succeeded')
    const hits = (await search('covering index', 50)).filter((hit) => hit.videoId === 'indexing-1')
    expect(hits.length).toBeGreaterThan(0)
    expect(new Set(hits.map((hit) => hit.start)).size).toBe(hits.length)
  })

  it('does the same from the terminal: ytrag ingest --wait shows progress, search and ask print deep links', async () => {
    const ytrag = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(root, 'scripts/bootstrap.mjs'), 'cli', ...args, '--server', base], {
        cwd: root,
        env: { ...process.env, YOUTUBE_RAG_SKIP_INSTALL: '1' },
      })
    const ingested = await ytrag('ingest', fixtures.url('/sourdough.html'), '--wait')
    expect(ingested.stdout).toMatch(/^job [0-9a-f-]{36} queued/)
    expect(ingested.stderr).toMatch(/\[#+\] 1\/1 videos \(1 indexed, 0 failed\) succeeded/)
    const searched = await ytrag('search', pennyFarthingCue.phrase)
    expect(searched.stdout).toContain(`${fixtures.url('/all.html')}#t=`)
    const asked = await ytrag('ask', pennyFarthingCue.question)
    expect(asked.stdout).toMatch(/\[1\] .+ @ \d+:\d\d {2}http/)
    await expect(ytrag('ingest', 'https://evil.example/x')).rejects.toMatchObject({
      stderr: expect.stringMatching(/host_not_allowed/),
    })
  })

  it('cites every passage of a video with chapters under the chapter it starts in, in search and in answers', async () => {
    const chapters = CHAPTERED_VIDEO.chapters!
    const chapterOf = (seconds: number) => {
      const chapter = chapters.findLast((candidate) => candidate.start <= seconds)!
      return { title: chapter.title, start: chapter.start }
    }
    const job = await waitForJob(await ingest(fixtures.url('/chapters.html')))
    expect(job).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1, failed: 0, skipped: 0 } })
    const video = (
      await call<{ chapters: unknown; transcript: { source: string; choice: string } }>('GET', '/v1/videos/chapters-1')
    ).body
    expect(video.chapters).toEqual(chapters)
    expect(video.transcript).toMatchObject({ source: 'captions', choice: 'english' })

    const filter = { videoIds: ['chapters-1'] }
    const { body } = await call<{ hits: Hit[] }>('POST', '/v1/search', {
      query: 'index table column scan tree',
      limit: 50,
      filter,
    })
    expect(body.hits.length).toBeGreaterThan(2)
    for (const hit of body.hits) expect(hit.chapter, `hit at ${hit.start} s`).toEqual(chapterOf(hit.start))
    expect(new Set(body.hits.map((hit) => hit.chapter?.title)).size).toBeGreaterThan(1)
    const covering = body.hits.find((hit) => hit.text.includes('A covering index avoids that hop'))!
    expect(covering.chapter).toEqual(chapterOf(covering.start))

    const asked = await call<{ citations: (Hit & { n: number })[] }>('POST', '/v1/ask', {
      question: 'What does a covering index avoid?',
      filter,
    })
    expect(asked.status).toBe(200)
    expect(asked.body.citations.length).toBeGreaterThan(0)
    for (const citation of asked.body.citations)
      expect(citation.chapter, `citation at ${citation.start} s`).toEqual(chapterOf(citation.start))
  })

  it('deletes a video with its chunks and transcript', async () => {
    const deleted = await call<{ deleted: boolean; chunks: number }>('DELETE', '/v1/videos/all-3')
    expect(deleted.status).toBe(200)
    expect(deleted.body.chunks).toBeGreaterThan(0)
    expect((await search(pennyFarthingCue.phrase)).filter((hit) => hit.videoId === 'all-3')).toEqual([])
    expect((await call('GET', '/v1/videos/all-3')).status).toBe(404)
    expect((await call('GET', '/v1/videos/all-3/transcript')).status).toBe(404)
  })

  it('fails a job whose page does not exist, with the reason', async () => {
    const job = await waitForJob(await ingest(fixtures.url('/missing.html')))
    expect(job.status).toBe('failed')
    expect(job.errors[0]?.message).toMatch(/404/)
  })

  it('answers every bad request with 400 and a clear error, and keeps running', async () => {
    const bad: [unknown, string][] = [
      ['{"url":', 'invalid_json'],
      [{}, 'invalid_request'],
      [{ url: 'ftp://www.youtube.com/watch?v=x' }, 'unsupported_scheme'],
      [{ url: 'https://evil.example/watch?v=x' }, 'host_not_allowed'],
      [{ url: 'http://169.254.169.254/latest/meta-data/' }, 'host_not_allowed'],
      [{ url: 'http://192.168.1.10/' }, 'host_not_allowed'],
      [{ url: 'not a url' }, 'invalid_url'],
    ]
    for (const [body, code] of bad) {
      const answer = await call<{ error: { code: string; message: string } }>('POST', '/v1/ingest', body)
      expect(answer.status, JSON.stringify(body)).toBe(400)
      expect(answer.body.error.code).toBe(code)
    }
    expect((await call('POST', '/v1/search', '{oops')).status).toBe(400)
    expect((await call('POST', '/v1/ask', {})).status).toBe(400)
    expect((await call('GET', '/health/ready')).status).toBe(200)
  })
})
