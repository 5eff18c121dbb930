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

  it('marks a video without captions failed with the reason, answers 2xx and sends video.failed', async () => {
    const data = await discovered('all-4', 4)
    expect((await fn.deliver('video.discovered', 'all-4', data)).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-4')).toMatchObject({ status: 'failed', error: NO_CAPTIONS_REASON })
    expect(fn.sink.events.map((event) => [event.name, (event.data as { reason: string }).reason])).toEqual([['video.failed', NO_CAPTIONS_REASON]])
    expect(await fn.stores.documents.getJob('job')).toMatchObject({ status: 'failed', errors: [{ videoId: 'all-4', message: NO_CAPTIONS_REASON }] })
  })
})
