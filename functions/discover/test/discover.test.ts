import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys, listedInfoSchema } from '@ytrag/stores'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { discover } from '../src/index.ts'

describe('discover over HTTP, with the real yt-dlp', () => {
  let fixtures: FixtureServer
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fixtures = await startFixtureServer()
  })
  afterAll(() => fixtures.close())
  beforeEach(async () => {
    fn = await startFunctionUnderTest(discover, { YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host })
  })
  afterEach(() => fn.close())

  it('lists a playlist page, links its videos to the job, and sends each one on; a duplicate delivery sends nothing', async () => {
    const url = fixtures.url('/all.html')
    await fn.stores.documents.createJob({ jobId: 'job-1', url })
    expect(
      (
        await fn.deliver(
          'ingest.requested',
          'job-1',
          { jobId: 'job-1', url, force: false },
          { mode: 'structured', id: 'e1' },
        )
      ).status,
    ).toBe(202)
    expect(fn.sink.events.map((event) => [event.name, event.subject])).toEqual([
      ['video.discovered', 'all-1'],
      ['video.discovered', 'all-2'],
      ['video.discovered', 'all-3'],
      ['video.discovered', 'all-4'],
    ])
    expect(fn.sink.events.map((event) => (event.data as { playlistItem?: number }).playlistItem)).toEqual([1, 2, 3, 4])
    // Each video as the listing extracted it, for download to take instead of reading the page
    // again; the event itself stays small.
    for (const [index, event] of fn.sink.events.entries()) {
      const listed = listedInfoSchema.parse(
        JSON.parse(new TextDecoder().decode(await fn.stores.blobs.get(blobKeys.listedInfo(`all-${index + 1}`)))),
      )
      expect(listed).toMatchObject({ page: url, playlistItem: index + 1, info: { id: `all-${index + 1}` } })
      expect(Date.now() - Date.parse(listed.listedAt)).toBeLessThan(60_000)
      expect(JSON.stringify(event.data)).not.toContain('listed')
    }
    const job = await fn.stores.documents.getJob('job-1')
    expect(job).toMatchObject({ status: 'running', videos: { total: 4, indexed: 0, failed: 0 } })

    expect(
      (await fn.deliver('ingest.requested', 'job-1', { jobId: 'job-1', url, force: false }, { id: 'e1' })).status,
    ).toBe(202)
    expect(fn.sink.events).toHaveLength(4)
    expect(await fn.stores.documents.getJob('job-1')).toEqual(job)
  })

  it('skips a video that is already indexed unless forced', async () => {
    const url = fixtures.url('/bicycle.html')
    await fn.stores.documents.insertVideo({ videoId: 'bicycle-1', url })
    await fn.stores.documents.updateVideo('bicycle-1', 'index', 'done', { chunkCount: 3 })
    await fn.stores.documents.createJob({ jobId: 'job-2', url })
    await fn.deliver('ingest.requested', 'job-2', { jobId: 'job-2', url, force: false })
    expect(fn.sink.events).toHaveLength(0)
    expect(await fn.stores.documents.getJob('job-2')).toMatchObject({
      status: 'succeeded',
      videos: { total: 1, indexed: 1, failed: 0 },
    })

    await fn.stores.documents.createJob({ jobId: 'job-3', url, force: true })
    await fn.deliver('ingest.requested', 'job-3', { jobId: 'job-3', url, force: true })
    expect(
      fn.sink.events.map((event) => [event.name, event.subject, (event.data as { force: boolean }).force]),
    ).toEqual([['video.discovered', 'bicycle-1', true]])
    expect((await fn.stores.documents.getVideo('bicycle-1'))?.status).toBe('queued')
  })

  it('sends a skipped live stream again on a plain re-ingest, as a new run', async () => {
    const url = fixtures.url('/bicycle.html')
    await fn.stores.documents.insertVideo({ videoId: 'bicycle-1', url })
    await fn.stores.documents.updateVideo('bicycle-1', 'download', 'skipped', {
      stages: { transcribe: 'skipped', index: 'skipped' },
      liveStatus: 'is_live',
      skipReason: 'on air',
    })
    await fn.stores.documents.createJob({ jobId: 'job-live', url })
    await fn.deliver('ingest.requested', 'job-live', { jobId: 'job-live', url, force: false })
    expect(
      fn.sink.events.map((event) => [event.name, event.subject, (event.data as { generation: number }).generation]),
    ).toEqual([['video.discovered', 'bicycle-1', 1]])
    const video = await fn.stores.documents.getVideo('bicycle-1')
    expect(video).toMatchObject({ status: 'queued', generation: 1 })
    expect(video?.skipReason).toBeUndefined()
  })

  it('finishes a job found half-way on redelivery (videos linked, never marked discovered), resending the same events', async () => {
    const url = fixtures.url('/all.html')
    await fn.stores.documents.createJob({ jobId: 'job-5', url })
    // The state a crash between addJobVideos and markJobDiscovered leaves behind.
    for (const videoId of ['all-1', 'all-2'])
      await fn.stores.documents.insertVideo({ videoId, url, playlistItem: Number(videoId.at(-1)) })
    await fn.stores.documents.addJobVideos('job-5', ['all-1', 'all-2'])
    expect(await fn.stores.documents.getJob('job-5')).toMatchObject({ status: 'running', discovered: false })
    expect((await fn.deliver('ingest.requested', 'job-5', { jobId: 'job-5', url, force: false })).status).toBe(202)
    expect(await fn.stores.documents.getJob('job-5')).toMatchObject({
      status: 'running',
      discovered: true,
      videos: { total: 4 },
    })
    // Still queued, so sent (again): under the ids discovery records, which downstream takes once.
    expect(fn.sink.events.map((event) => event.id)).toEqual(
      ['all-1', 'all-2', 'all-3', 'all-4'].map((id) => `${id}/discover/0/video.discovered`),
    )
    expect((await fn.stores.documents.getVideo('all-1'))?.handoff?.events.map((event) => event.id)).toEqual([
      'all-1/discover/0/video.discovered',
    ])
  })

  it('re-sends a video in any state when forced, as a new generation', async () => {
    const url = fixtures.url('/bicycle.html')
    await fn.stores.documents.insertVideo({ videoId: 'bicycle-1', url })
    await fn.stores.documents.updateVideo('bicycle-1', 'download', 'running')
    await fn.stores.documents.createJob({ jobId: 'job-6', url })
    await fn.deliver('ingest.requested', 'job-6', { jobId: 'job-6', url, force: false })
    expect(fn.sink.events).toHaveLength(0) // in progress: left to its run (the reaper watches it)
    await fn.stores.documents.createJob({ jobId: 'job-7', url, force: true })
    await fn.deliver('ingest.requested', 'job-7', { jobId: 'job-7', url, force: true })
    expect(fn.sink.events.map((event) => [event.id, (event.data as { generation?: number }).generation])).toEqual([
      ['bicycle-1/discover/1/video.discovered', 1],
    ])
    expect(await fn.stores.documents.getVideo('bicycle-1')).toMatchObject({ status: 'queued', generation: 1 })
  })

  it('fails the job, without a retry, when the page does not exist', async () => {
    const url = fixtures.url('/nowhere.html')
    await fn.stores.documents.createJob({ jobId: 'job-4', url })
    expect((await fn.deliver('ingest.requested', 'job-4', { jobId: 'job-4', url, force: false })).status).toBe(202)
    const job = await fn.stores.documents.getJob('job-4')
    expect(job?.status).toBe('failed')
    expect(job?.errors[0]?.message).toMatch(/404/)
    expect(fn.sink.events).toHaveLength(0)
  })
})

describe('discover of a YouTube premiere not started (a yt-dlp stand-in)', () => {
  let dir: string
  let fn: FunctionUnderTest
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ytrag-discover-standin-'))
    // YouTube describes no premiere before it starts: yt-dlp only says when it will.
    const script = join(dir, 'yt-dlp.sh')
    await writeFile(script, "#!/bin/sh\necho 'ERROR: [youtube] Pr3miere_-x: Premieres in 17 hours' >&2\nexit 1\n")
    await chmod(script, 0o755)
    fn = await startFunctionUnderTest(discover, { YOUTUBE_RAG__TOOLS__YTDLP_PATH: script })
  })
  afterAll(async () => {
    await fn.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends the video its URL names on, for download to skip, instead of failing the job', async () => {
    const url = 'https://www.youtube.com/watch?v=Pr3miere_-x'
    await fn.stores.documents.createJob({ jobId: 'job-p', url })
    expect((await fn.deliver('ingest.requested', 'job-p', { jobId: 'job-p', url, force: false })).status).toBe(202)
    expect(fn.sink.events.map((event) => [event.name, event.subject, (event.data as { url: string }).url])).toEqual([
      ['video.discovered', 'Pr3miere_-x', url],
    ])
    expect(await fn.stores.documents.getJob('job-p')).toMatchObject({
      status: 'running',
      discovered: true,
      videos: { total: 1 },
      errors: [],
    })
  })
})
