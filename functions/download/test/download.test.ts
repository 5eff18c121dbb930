import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys, type StoredTranscript } from '@ytrag/stores'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { download, NO_CAPTIONS_REASON } from '../src/index.ts'

describe('download over HTTP, with the real yt-dlp', () => {
  let fixtures: FixtureServer
  let fn: FunctionUnderTest
  beforeAll(async () => {
    fixtures = await startFixtureServer()
  })
  afterAll(() => fixtures.close())
  beforeEach(async () => {
    fn = await startFunctionUnderTest(download, { YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host })
    await fn.stores.documents.createJob({ jobId: 'job', url: fixtures.url('/all.html') })
  })
  afterEach(() => fn.close())

  const discovered = async (videoId: string, playlistItem: number) => {
    await fn.stores.documents.insertVideo({ videoId, url: fixtures.url('/all.html'), playlistItem })
    await fn.stores.documents.addJobVideos('job', [videoId])
    await fn.stores.documents.markJobDiscovered('job')
    return { jobId: 'job', videoId, url: fixtures.url('/all.html'), playlistItem, force: false }
  }

  for (const mode of ['binary', 'structured'] as const) {
    it(`stores the captions and the transcript and sends transcript.ready (${mode} mode)`, async () => {
      const data = await discovered('all-3', 3)
      expect((await fn.deliver('video.discovered', 'all-3', data, { mode })).status).toBe(202)
      expect(fn.sink.events.map((event) => [event.name, event.subject])).toEqual([['transcript.ready', 'all-3']])
      expect(fn.sink.events[0]?.data).toMatchObject({ blobKey: blobKeys.transcript('all-3'), source: 'captions', language: 'en' })
      const vtt = new TextDecoder().decode(await fn.stores.blobs.get(blobKeys.captions('all-3', 'en')))
      expect(vtt).toMatch(/^WEBVTT/)
      const transcript = JSON.parse(new TextDecoder().decode(await fn.stores.blobs.get(blobKeys.transcript('all-3')))) as StoredTranscript
      expect(transcript.segments.some((segment) => segment.text.includes('penny-farthing'))).toBe(true)
      const video = await fn.stores.documents.getVideo('all-3')
      expect(video).toMatchObject({ status: 'indexing', transcript: { source: 'captions', language: 'en', segmentCount: transcript.segments.length } })
      expect(video?.stages.transcribe.status).toBe('skipped')
    })
  }

  it('changes nothing on a duplicate delivery, and sends the same transcript.ready again', async () => {
    const data = await discovered('all-1', 1)
    await fn.deliver('video.discovered', 'all-1', data, { id: 'dup' })
    const before = await fn.stores.documents.getVideo('all-1')
    const requests = fixtures.requests.length
    expect((await fn.deliver('video.discovered', 'all-1', data, { id: 'dup' })).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-1')).toEqual(before)
    expect(fixtures.requests.length).toBe(requests)
    const [first, again] = fn.sink.events
    expect(fn.sink.events).toHaveLength(2)
    expect(again).toMatchObject({ id: first!.id, name: 'transcript.ready', data: first!.data })
  })

  it('gives one result for an event delivered three times at once, then three times in a row', async () => {
    const data = await discovered('all-2', 2)
    const parallel = await Promise.all([1, 2, 3].map(() => fn.deliver('video.discovered', 'all-2', data, { id: 'triple' })))
    expect(parallel.map((answer) => answer.status)).toEqual([202, 202, 202])
    const video = await fn.stores.documents.getVideo('all-2')
    const transcript = await fn.stores.blobs.get(blobKeys.transcript('all-2'))
    for (let i = 0; i < 3; i++) expect((await fn.deliver('video.discovered', 'all-2', data, { id: 'triple' })).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-2')).toMatchObject({ status: 'indexing', transcript: video!.transcript })
    expect(await fn.stores.blobs.get(blobKeys.transcript('all-2'))).toEqual(transcript)
    // However often it was sent, it is one event: one id, one content, taken once downstream.
    expect(new Set(fn.sink.events.map((event) => event.id))).toEqual(new Set(['all-2/download/0/transcript.ready']))
    expect(new Set(fn.sink.events.map((event) => JSON.stringify(event.data))).size).toBe(1)
  })

  it('ignores an event of an earlier run of the video (before a forced re-ingest)', async () => {
    const data = await discovered('all-1', 1)
    await fn.stores.documents.resetVideo('all-1')
    expect((await fn.deliver('video.discovered', 'all-1', { ...data, generation: 0 })).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-1')).toMatchObject({ status: 'queued', generation: 1 })
    expect(fn.sink.events).toEqual([])
  })

  it('leaves nothing behind when the video is deleted while its download runs', async () => {
    const data = await discovered('all-3', 3)
    // The delete lands while yt-dlp reads the page: the download finds the video gone when it
    // writes its result, and removes the blobs it wrote.
    const answer = fn.deliver('video.discovered', 'all-3', data)
    const deadline = Date.now() + 20_000
    while ((await fn.stores.documents.getVideo('all-3'))?.status !== 'downloading' && Date.now() < deadline) await new Promise((done) => setTimeout(done, 5))
    expect(await fn.stores.documents.deleteVideo('all-3')).toBe(true)
    expect((await answer).status).toBe(202)
    expect(await fn.stores.blobs.deleteByPrefix(blobKeys.videoPrefix('all-3'))).toBe(0)
    expect(fn.sink.events).toEqual([])
  })

  it('marks a video without captions failed with the reason, answers 2xx and sends video.failed', async () => {
    const data = await discovered('all-4', 4)
    expect((await fn.deliver('video.discovered', 'all-4', data)).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-4')).toMatchObject({ status: 'failed', error: NO_CAPTIONS_REASON })
    expect(fn.sink.events.map((event) => [event.name, (event.data as { reason: string }).reason])).toEqual([['video.failed', NO_CAPTIONS_REASON]])
    expect(await fn.stores.documents.getJob('job')).toMatchObject({ status: 'failed', errors: [{ videoId: 'all-4', message: NO_CAPTIONS_REASON }] })
  })
})
