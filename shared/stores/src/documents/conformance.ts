// The behaviour every DocumentStore adapter must have. `open` must return a store with no
// jobs, videos, channels or hosts, on the clock `now` when given (else the system clock); each
// test opens its own and closes it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ChannelDefaults, DocumentStore, NewChannel, NewVideo, Video } from '../ports.ts'

const newVideo = (videoId: string, extra: Partial<NewVideo> = {}): NewVideo => ({
  videoId,
  url: `https://www.youtube.com/watch?v=${videoId}`,
  ...extra,
})

/** A subscription's defaults as the configuration's defaults give them. */
const DEFAULTS: ChannelDefaults = { languages: [], speechToText: false, backfill: 5, intervalSeconds: 3600 }

const newChannel = (channelId: string, extra: Partial<NewChannel> = {}): NewChannel => ({
  channelId,
  url: `https://www.youtube.com/@${channelId}`,
  listUrl: `https://www.youtube.com/channel/${channelId}/videos`,
  defaults: DEFAULTS,
  nextSyncAt: '2030-01-01T00:00:00.000Z',
  ...extra,
})

/** A fixed moment and times around it, for the schedule and politeness tests. */
const T0 = Date.parse('2030-01-01T12:00:00.000Z')
const at = (offsetMs: number) => new Date(T0 + offsetMs)
const iso = (offsetMs: number) => at(offsetMs).toISOString()
const tick = () => new Promise((resolve) => setTimeout(resolve, 5))

/**
 * Declares the DocumentStore conformance suite.
 *
 * @example
 * documentStoreConformance('SqliteDocumentStore', async () => new SqliteDocumentStore({ path: freshFile() }))
 */
export function documentStoreConformance(
  name: string,
  open: (options?: { now?: () => Date }) => Promise<DocumentStore>,
): void {
  describe(`${name} (DocumentStore conformance)`, () => {
    let store: DocumentStore
    beforeEach(async () => {
      store = await open()
    })
    afterEach(async () => {
      await store.close()
    })

    /** Inserts the videos, links them to the job and, unless told otherwise, marks discovery done. */
    const jobWith = async (jobId: string, videoIds: string[], discovered = true) => {
      await store.createJob({ jobId, url: 'https://www.youtube.com/playlist?list=PL1' })
      for (const videoId of videoIds) await store.insertVideo(newVideo(videoId))
      await store.addJobVideos(jobId, videoIds)
      if (discovered) await store.markJobDiscovered(jobId)
    }
    const index = (videoId: string) => store.updateVideo(videoId, 'index', 'done', { chunkCount: 3 })
    const fail = (videoId: string, message = 'no captions') =>
      store.updateVideo(videoId, 'transcribe', 'failed', { error: message })

    describe('jobs', () => {
      it('creates a queued job with defaults', async () => {
        const job = await store.createJob({ jobId: 'j1', url: 'https://www.youtube.com/watch?v=a' })
        expect(job).toMatchObject({
          jobId: 'j1',
          url: 'https://www.youtube.com/watch?v=a',
          force: false,
          status: 'queued',
          videos: { total: 0, indexed: 0, failed: 0, skipped: 0 },
          audioMinutes: { queued: 0, done: 0 },
          errors: [],
          skipped: [],
        })
        expect(job.language).toBeUndefined()
        expect(Date.parse(job.createdAt)).not.toBeNaN()
        expect(job.updatedAt >= job.createdAt).toBe(true)
        expect(await store.getJob('j1')).toEqual(job)
      })

      it('keeps language and force', async () => {
        const job = await store.createJob({ jobId: 'j1', url: 'u', language: 'de', force: true })
        expect(job).toMatchObject({ language: 'de', force: true })
      })

      it('is idempotent on jobId: a second create returns the first job unchanged', async () => {
        const first = await store.createJob({ jobId: 'j1', url: 'first' })
        const second = await store.createJob({ jobId: 'j1', url: 'second', force: true })
        expect(second).toEqual(first)
        expect(await store.getJob('j1')).toEqual(first)
      })

      it('returns undefined for an unknown job', async () => {
        expect(await store.getJob('nope')).toBeUndefined()
      })

      it('ignores writes to an unknown job', async () => {
        await store.addJobVideos('nope', ['a'])
        await store.markJobDiscovered('nope')
        await store.failJob('nope', 'x')
        expect(await store.getJob('nope')).toBeUndefined()
      })

      it('counts a link to a video not inserted yet as still running', async () => {
        await store.createJob({ jobId: 'j1', url: 'u' })
        await store.addJobVideos('j1', ['later'])
        await store.markJobDiscovered('j1')
        expect(await store.getJob('j1')).toMatchObject({
          status: 'running',
          videos: { total: 1, indexed: 0, failed: 0 },
        })
      })

      it('takes createdAt from the clock it was opened with', async () => {
        const clocked = await open({ now: () => new Date('2030-01-02T03:04:05.000Z') })
        try {
          expect((await clocked.createJob({ jobId: 'j1', url: 'u' })).createdAt).toBe('2030-01-02T03:04:05.000Z')
        } finally {
          await clocked.close()
        }
      })

      it('does not move updatedAt when a replayed write changes nothing', async () => {
        let second = 0
        const clocked = await open({ now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, second++)) })
        try {
          await clocked.createJob({ jobId: 'j1', url: 'u' })
          await clocked.addJobVideos('j1', ['a'])
          await clocked.markJobDiscovered('j1')
          await clocked.failJob('j1', 'boom')
          const before = (await clocked.getJob('j1'))!.updatedAt
          await clocked.addJobVideos('j1', ['a'])
          await clocked.markJobDiscovered('j1')
          await clocked.failJob('j1', 'boom')
          expect((await clocked.getJob('j1'))!.updatedAt).toBe(before)
        } finally {
          await clocked.close()
        }
      })

      it('is succeeded once discovered with no videos', async () => {
        await store.createJob({ jobId: 'j1', url: 'u' })
        await store.markJobDiscovered('j1')
        await store.markJobDiscovered('j1')
        expect((await store.getJob('j1'))?.status).toBe('succeeded')
      })

      it('is running while videos are linked but discovery is not done, even if they are all indexed', async () => {
        await jobWith('j1', ['a'], false)
        expect(await store.getJob('j1')).toMatchObject({
          status: 'running',
          videos: { total: 1, indexed: 0, failed: 0 },
        })
        await index('a')
        expect(await store.getJob('j1')).toMatchObject({
          status: 'running',
          videos: { total: 1, indexed: 1, failed: 0 },
        })
        await store.markJobDiscovered('j1')
        expect((await store.getJob('j1'))?.status).toBe('succeeded')
      })

      it('goes queued → running → succeeded', async () => {
        await store.createJob({ jobId: 'j1', url: 'u' })
        expect((await store.getJob('j1'))?.status).toBe('queued')
        await jobWith('j1', ['a', 'b'])
        expect((await store.getJob('j1'))?.status).toBe('running')
        await store.updateVideo('a', 'download', 'running', {})
        await index('a')
        expect(await store.getJob('j1')).toMatchObject({
          status: 'running',
          videos: { total: 2, indexed: 1, failed: 0 },
        })
        await index('b')
        expect(await store.getJob('j1')).toMatchObject({
          status: 'succeeded',
          videos: { total: 2, indexed: 2, failed: 0 },
          errors: [],
        })
      })

      it('is failed when every video failed, with one error per video', async () => {
        await jobWith('j1', ['a', 'b'])
        await fail('a', 'no captions')
        expect((await store.getJob('j1'))?.status).toBe('running')
        await store.updateVideo('b', 'download', 'failed', { error: 'HTTP 403' })
        const job = await store.getJob('j1')
        expect(job).toMatchObject({ status: 'failed', videos: { total: 2, indexed: 0, failed: 2 } })
        expect(job?.errors).toHaveLength(2)
        expect(job?.errors).toEqual(
          expect.arrayContaining([
            { videoId: 'a', stage: 'transcribe', message: 'no captions' },
            { videoId: 'b', stage: 'download', message: 'HTTP 403' },
          ]),
        )
      })

      it('is partial when some videos failed and the rest are indexed', async () => {
        await jobWith('j1', ['a', 'b', 'c'])
        await index('a')
        await fail('b')
        expect((await store.getJob('j1'))?.status).toBe('running')
        await index('c')
        const job = await store.getJob('j1')
        expect(job).toMatchObject({ status: 'partial', videos: { total: 3, indexed: 2, failed: 1 } })
        expect(job?.errors).toEqual([{ videoId: 'b', stage: 'transcribe', message: 'no captions' }])
      })

      it('counts a skipped video as done, not failed, and lists it with its reason', async () => {
        await jobWith('j1', ['live', 'b'])
        await store.updateVideo('live', 'download', 'skipped', {
          stages: { transcribe: 'skipped', index: 'skipped' },
          liveStatus: 'is_live',
          skipReason: 'a live stream, still live',
        })
        expect(await store.getJob('j1')).toMatchObject({
          status: 'running',
          videos: { total: 2, indexed: 0, failed: 0, skipped: 1 },
        })
        await index('b')
        const job = await store.getJob('j1')
        expect(job).toMatchObject({
          status: 'succeeded',
          videos: { total: 2, indexed: 1, failed: 0, skipped: 1 },
          errors: [],
        })
        expect(job?.skipped).toEqual([{ videoId: 'live', reason: 'a live stream, still live' }])
      })

      it('is failed after failJob, whatever its videos, with the message first in errors', async () => {
        await jobWith('j1', ['a', 'b'], false)
        await index('a')
        await fail('b')
        await store.failJob('j1', 'playlist is private')
        await store.failJob('j1', 'playlist is private')
        const job = await store.getJob('j1')
        expect(job?.status).toBe('failed')
        expect(job?.errors).toEqual([
          { message: 'playlist is private' },
          { videoId: 'b', stage: 'transcribe', message: 'no captions' },
        ])
      })

      it('links a video once however often it is added, and shares videos between jobs', async () => {
        await jobWith('j1', ['a', 'b'])
        await store.addJobVideos('j1', ['a', 'b', 'a'])
        await jobWith('j2', ['b'])
        expect((await store.getJob('j1'))?.videos.total).toBe(2)
        await index('b')
        expect(await store.getJob('j2')).toMatchObject({ status: 'succeeded', videos: { total: 1, indexed: 1 } })
        expect(await store.getJob('j1')).toMatchObject({ status: 'running', videos: { total: 2, indexed: 1 } })
      })

      it('takes updatedAt from its latest video', async () => {
        await jobWith('j1', ['a'])
        const before = (await store.getJob('j1'))!.updatedAt
        await new Promise((resolve) => setTimeout(resolve, 5))
        const video = await index('a')
        const job = await store.getJob('j1')
        expect(job?.updatedAt).toBe(video?.updatedAt)
        expect(job!.updatedAt > before).toBe(true)
      })
    })

    describe('videos', () => {
      it('inserts a new video queued with every stage pending', async () => {
        const { created, video } = await store.insertVideo(
          newVideo('a', { channelId: 'UC1', channel: 'Chan', playlistItem: 2, durationSeconds: 61.5 }),
        )
        expect(created).toBe(true)
        expect(video).toMatchObject({
          videoId: 'a',
          url: 'https://www.youtube.com/watch?v=a',
          title: '',
          channelId: 'UC1',
          channel: 'Chan',
          playlistItem: 2,
          durationSeconds: 61.5,
          status: 'queued',
          chunkCount: 0,
          stages: { download: { status: 'pending' }, transcribe: { status: 'pending' }, index: { status: 'pending' } },
        })
        expect(video.error).toBeUndefined()
        expect(video.transcript).toBeUndefined()
        expect(await store.getVideo('a')).toEqual(video)
      })

      it('never overwrites an existing video on a second insert', async () => {
        const first = await store.insertVideo(newVideo('a', { title: 'First' }))
        await store.updateVideo('a', 'download', 'done', {})
        const second = await store.insertVideo(newVideo('a', { title: 'Second', channelId: 'UC2' }))
        expect(second.created).toBe(false)
        expect(second.video).toMatchObject({ title: 'First', status: 'transcribing' })
        expect(second.video.channelId).toBeUndefined()
        expect(second.video.createdAt).toBe(first.video.createdAt)
      })

      it('returns undefined for an unknown video, and updateVideo does not create one', async () => {
        expect(await store.getVideo('nope')).toBeUndefined()
        expect(await store.updateVideo('nope', 'download', 'done')).toBeUndefined()
        expect(await store.getVideo('nope')).toBeUndefined()
      })

      it('sets one stage and the fields given, leaving the rest', async () => {
        const { video: inserted } = await store.insertVideo(newVideo('a', { title: 'T' }))
        await new Promise((resolve) => setTimeout(resolve, 5))
        const transcript = {
          source: 'captions' as const,
          language: 'en',
          blobKey: 'videos/a/transcript.json',
          segmentCount: 12,
        }
        const updated = await store.updateVideo('a', 'transcribe', 'done', {
          channelId: 'UC1',
          publishedAt: '2024-03-01T00:00:00.000Z',
          language: 'en',
          transcript,
        })
        expect(updated).toMatchObject({ title: 'T', channelId: 'UC1', language: 'en', transcript, chunkCount: 0 })
        expect(updated?.stages.transcribe.status).toBe('done')
        expect(updated?.stages.transcribe.error).toBeUndefined()
        expect(updated?.stages.download).toEqual(inserted.stages.download)
        expect(updated!.updatedAt > inserted.updatedAt).toBe(true)
        expect(updated?.stages.transcribe.updatedAt).toBe(updated?.updatedAt)
        expect(await store.getVideo('a')).toEqual(updated)
      })

      it('records a failed stage with its error, and clears the error with null', async () => {
        await store.insertVideo(newVideo('a'))
        const failed = await store.updateVideo('a', 'download', 'failed', { error: 'HTTP 429' })
        expect(failed).toMatchObject({
          status: 'failed',
          error: 'HTTP 429',
          stages: { download: { status: 'failed', error: 'HTTP 429' } },
        })
        const retried = await store.updateVideo('a', 'download', 'running', { error: null })
        expect(retried?.error).toBeUndefined()
        expect(retried?.stages.download.status).toBe('running')
        expect(retried?.stages.download.error).toBeUndefined()
        // The status follows the stages: download done, speech-to-text not decided yet.
        const moved = await store.updateVideo('a', 'download', 'done')
        expect(moved?.status).toBe('transcribing')
      })

      it('resets a video to the start of the pipeline', async () => {
        await store.insertVideo(newVideo('a', { title: 'T' }))
        await store.updateVideo('a', 'transcribe', 'failed', {
          error: 'boom',
          chunkCount: 4,
          transcript: { source: 'speech-to-text', language: 'en', model: 'small', blobKey: 'k', segmentCount: 1 },
        })
        await store.resetVideo('a')
        await store.resetVideo('missing')
        const video = await store.getVideo('a')
        expect(video).toMatchObject({ title: 'T', status: 'queued', chunkCount: 0 })
        expect(video?.error).toBeUndefined()
        expect(video?.transcript).toBeUndefined()
        expect(Object.values(video!.stages).map((stage) => stage.status)).toEqual(['pending', 'pending', 'pending'])
      })

      it('marks a video private or removed, clears it with null, and keeps it on reset', async () => {
        await store.insertVideo(newVideo('a'))
        expect((await store.getVideo('a'))?.availability).toBeUndefined()
        const gone = await store.updateVideo('a', 'index', 'done', { chunkCount: 2, availability: 'private' })
        expect(gone).toMatchObject({ availability: 'private', status: 'indexed', chunkCount: 2 })
        expect(await store.getVideo('a')).toEqual(gone)
        expect((await store.updateVideo('a', 'index', 'done', { availability: 'removed' }))?.availability).toBe(
          'removed',
        )
        expect((await store.updateVideo('a', 'index', 'done', { title: 'kept' }))?.availability).toBe('removed')
        await store.resetVideo('a')
        expect(await store.getVideo('a')).toMatchObject({ availability: 'removed', status: 'queued', chunkCount: 0 })
        const back = await store.updateVideo('a', 'download', 'running', { availability: null })
        expect(back?.availability).toBeUndefined()
        expect(back && 'availability' in back).toBe(false)
        expect(await store.getVideo('a')).toEqual(back)
      })

      it('keeps chapters, the live status and how the captions were chosen exactly as written', async () => {
        await store.insertVideo(newVideo('a'))
        const chapters = [
          { title: 'Intro', start: 0, end: 42.5 },
          { title: 'Covering indexes — "why" & how', start: 42.5, end: 600 },
        ]
        const transcript = {
          source: 'auto-captions' as const,
          language: 'en',
          track: 'en-orig',
          choice: 'original-language' as const,
          blobKey: 'k',
          segmentCount: 3,
        }
        const written = await store.updateVideo('a', 'download', 'running', {
          chapters,
          liveStatus: 'was_live',
          transcript,
        })
        expect(written).toMatchObject({ chapters, liveStatus: 'was_live', transcript })
        expect(await store.getVideo('a')).toEqual(written)
        // Chapters are replaced as a whole, never merged.
        const fewer = await store.updateVideo('a', 'download', 'running', {
          chapters: [{ title: 'All', start: 0, end: 600 }],
        })
        expect(fewer?.chapters).toEqual([{ title: 'All', start: 0, end: 600 }])
      })

      it("keeps the video's media URL as written, through a reset, and clears it with null", async () => {
        await store.insertVideo(newVideo('a'))
        const mediaUrl = 'https://talks.example/media/a.mp4?lang=en&q=1'
        const written = await store.updateVideo('a', 'download', 'running', { mediaUrl })
        expect(written?.mediaUrl).toBe(mediaUrl)
        expect(await store.getVideo('a')).toEqual(written)
        // Another stage's write leaves it alone; a reset keeps it (the next read of the page replaces it).
        expect((await store.updateVideo('a', 'index', 'running', { chunkCount: 2 }))?.mediaUrl).toBe(mediaUrl)
        expect((await store.resetVideo('a'))?.mediaUrl).toBe(mediaUrl)
        const cleared = await store.updateVideo('a', 'download', 'running', { mediaUrl: null })
        expect(cleared && 'mediaUrl' in cleared).toBe(false)
        expect(await store.getVideo('a')).toEqual(cleared)
      })

      it('skips a video with its reason, leaves it out of the unfinished ones, and clears the reason on reset', async () => {
        await store.insertVideo(newVideo('a'))
        const skipped = await store.updateVideo('a', 'download', 'skipped', {
          stages: { transcribe: 'skipped', index: 'skipped' },
          liveStatus: 'is_upcoming',
          skipReason: 'a premiere not shown yet',
        })
        expect(skipped).toMatchObject({
          status: 'skipped',
          liveStatus: 'is_upcoming',
          skipReason: 'a premiere not shown yet',
        })
        expect(await store.getVideo('a')).toEqual(skipped)
        expect(await store.listUnfinishedVideos({ before: new Date(Date.now() + 1000), limit: 10 })).toEqual([])
        const reset = await store.resetVideo('a')
        expect(reset).toMatchObject({ status: 'queued', generation: 1, liveStatus: 'is_upcoming' })
        expect(reset && 'skipReason' in reset).toBe(false)
        expect((await store.updateVideo('a', 'download', 'running', { skipReason: 'x' }))?.skipReason).toBe('x')
        expect((await store.updateVideo('a', 'download', 'running', { skipReason: null }))?.skipReason).toBeUndefined()
      })

      it('deletes a video and its job links', async () => {
        await jobWith('j1', ['a', 'b'])
        await index('b')
        expect(await store.deleteVideo('a')).toBe(true)
        expect(await store.deleteVideo('a')).toBe(false)
        expect(await store.getVideo('a')).toBeUndefined()
        expect(await store.getJob('j1')).toMatchObject({
          status: 'succeeded',
          videos: { total: 1, indexed: 1, failed: 0 },
        })
      })

      it('pages through 25 videos 10 at a time, newest first, each seen once', async () => {
        for (let i = 0; i < 25; i++) {
          await store.insertVideo(newVideo(`v${String(i).padStart(2, '0')}`, { channelId: i % 2 ? 'odd' : 'even' }))
          // Some videos share a createdAt, some do not: both orderings are exercised.
          if (i % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 3))
        }
        const seen: Video[] = []
        let cursor: string | undefined
        let pages = 0
        do {
          const page = await store.listVideos({ limit: 10, ...(cursor ? { cursor } : {}) })
          pages++
          expect(page.items.length).toBe(pages < 3 ? 10 : 5)
          seen.push(...page.items)
          cursor = page.nextCursor ?? undefined
        } while (cursor && pages < 10)
        expect(pages).toBe(3)
        expect(new Set(seen.map((video) => video.videoId)).size).toBe(25)
        const sorted = [...seen].sort((a, b) =>
          a.createdAt === b.createdAt ? (a.videoId < b.videoId ? -1 : 1) : a.createdAt > b.createdAt ? -1 : 1,
        )
        expect(seen.map((video) => video.videoId)).toEqual(sorted.map((video) => video.videoId))
      })

      it('gives a null cursor when the last page is exactly full, and an empty page on an empty store', async () => {
        expect(await store.listVideos({ limit: 10 })).toEqual({ items: [], nextCursor: null })
        for (const id of ['a', 'b']) await store.insertVideo(newVideo(id))
        const page = await store.listVideos({ limit: 2 })
        expect(page.items).toHaveLength(2)
        expect(page.nextCursor).toBeNull()
      })

      it('filters by channel, across pages', async () => {
        for (let i = 0; i < 12; i++)
          await store.insertVideo(
            newVideo(`v${String(i).padStart(2, '0')}`, { channelId: i % 3 === 0 ? 'UC3' : 'other' }),
          )
        const first = await store.listVideos({ channelId: 'UC3', limit: 3 })
        expect(first.items.every((video) => video.channelId === 'UC3')).toBe(true)
        expect(first.nextCursor).not.toBeNull()
        const second = await store.listVideos({ channelId: 'UC3', limit: 3, cursor: first.nextCursor! })
        expect(second.nextCursor).toBeNull()
        expect([...first.items, ...second.items].map((video) => video.videoId).sort()).toEqual([
          'v00',
          'v03',
          'v06',
          'v09',
        ])
        expect((await store.listVideos({ channelId: 'none', limit: 3 })).items).toEqual([])
      })

      it('rejects a cursor it never issued', async () => {
        // InvalidCursorError (from this package), so the HTTP layer can answer 400.
        await expect(store.listVideos({ limit: 10, cursor: 'garbage!' })).rejects.toMatchObject({
          name: 'InvalidCursorError',
        })
      })
    })

    describe('speech-to-text segments', () => {
      const plan = { segmentCount: 4, seconds: 400, segmentsDone: [], secondsDone: 0 }

      it('records each segment once, in index order, however often and in whatever order it is told', async () => {
        await jobWith('job-stt', ['stt1'])
        await store.updateVideo('stt1', 'transcribe', 'running', { audio: plan })
        for (const index of [2, 0, 2, 3, 0]) await store.recordTranscribedSegment('stt1', { index, seconds: 100 })
        const video = await store.getVideo('stt1')
        expect(video?.audio).toEqual({ segmentCount: 4, seconds: 400, segmentsDone: [0, 2, 3], secondsDone: 300 })
        expect((await store.getJob('job-stt'))?.audioMinutes).toEqual({ queued: 1.7, done: 5 })
      })

      it('records segments told at the same moment without losing one', async () => {
        await store.insertVideo(newVideo('stt2'))
        await store.updateVideo('stt2', 'transcribe', 'running', {
          audio: { ...plan, segmentCount: 12, seconds: 1200 },
        })
        const indexes = Array.from({ length: 12 }, (_, index) => index)
        await Promise.all(
          [...indexes, ...indexes].map((index) => store.recordTranscribedSegment('stt2', { index, seconds: 100 })),
        )
        const video = await store.getVideo('stt2')
        expect(video?.audio?.segmentsDone).toEqual(indexes)
        expect(video?.audio?.secondsDone).toBe(1200)
      })

      it('returns undefined for an unknown video, and refuses a video with no audio plan', async () => {
        expect(await store.recordTranscribedSegment('nope', { index: 0, seconds: 1 })).toBeUndefined()
        await store.insertVideo(newVideo('stt3'))
        await expect(store.recordTranscribedSegment('stt3', { index: 0, seconds: 1 })).rejects.toThrow(
          /no audio segments/,
        )
      })

      it('clears the audio plan with null and on reset, and no longer counts a failed video as queued', async () => {
        await jobWith('job-stt4', ['stt4', 'stt5'])
        await store.updateVideo('stt4', 'transcribe', 'running', { audio: plan })
        await store.updateVideo('stt5', 'transcribe', 'running', { audio: plan })
        await store.recordTranscribedSegment('stt5', { index: 0, seconds: 100 })
        await store.updateVideo('stt5', 'transcribe', 'failed', { error: 'quota' })
        expect((await store.getJob('job-stt4'))?.audioMinutes).toEqual({ queued: 6.7, done: 1.7 })
        await store.updateVideo('stt4', 'transcribe', 'running', { audio: null })
        expect((await store.getVideo('stt4'))?.audio).toBeUndefined()
        await store.resetVideo('stt5')
        expect((await store.getVideo('stt5'))?.audio).toBeUndefined()
        expect((await store.getJob('job-stt4'))?.audioMinutes).toEqual({ queued: 0, done: 0 })
      })
    })

    describe("lifecycle: derived status, generations, handoffs, the reaper's queries", () => {
      const handoff = (from: 'discover' | 'download', id: string) => ({
        from,
        at: '2030-01-01T00:00:00.000Z',
        events: [{ name: 'transcript.ready', id, data: { jobId: 'j1', videoId: 'a', nested: { list: [1, 2] } } }],
      })

      it('derives the status from the stages, whatever order they are written in', async () => {
        await store.insertVideo(newVideo('a'))
        expect((await store.updateVideo('a', 'download', 'running'))?.status).toBe('downloading')
        expect((await store.updateVideo('a', 'download', 'done', { stages: { transcribe: 'skipped' } }))?.status).toBe(
          'indexing',
        )
        expect((await store.updateVideo('a', 'index', 'running'))?.status).toBe('indexing')
        expect((await store.updateVideo('a', 'index', 'done'))?.status).toBe('indexed')
        expect((await store.updateVideo('a', 'transcribe', 'failed', { error: 'late' }))?.status).toBe('failed')
        expect((await store.getVideo('a'))?.status).toBe('failed')
      })

      it('writes several stages in one update, each with its own state', async () => {
        await store.insertVideo(newVideo('a'))
        const after = await store.updateVideo('a', 'download', 'done', {
          stages: { transcribe: 'running', index: 'pending' },
        })
        expect(after?.stages).toMatchObject({
          download: { status: 'done' },
          transcribe: { status: 'running' },
          index: { status: 'pending' },
        })
        expect(after?.status).toBe('transcribing')
        expect(await store.getVideo('a')).toEqual(after)
      })

      it('keeps a handoff exactly as written, and clears it with null', async () => {
        const { video } = await store.insertVideo(newVideo('a'))
        expect(video).toMatchObject({ generation: 0, redrives: 0 })
        expect(video.handoff).toBeUndefined()
        const written = await store.updateVideo('a', 'download', 'done', {
          handoff: handoff('download', 'a/download/0/transcript.ready'),
        })
        expect(written?.handoff).toEqual(handoff('download', 'a/download/0/transcript.ready'))
        expect(await store.getVideo('a')).toEqual(written)
        const cleared = await store.updateVideo('a', 'download', 'done', { handoff: null })
        expect(cleared && 'handoff' in cleared).toBe(false)
      })

      it('resets to a new generation with no handoff, and refuses writes of the old one', async () => {
        await store.insertVideo(newVideo('a'))
        await store.updateVideo('a', 'download', 'done', { handoff: handoff('download', 'x'), redrives: 2 })
        const reset = await store.resetVideo('a')
        expect(reset).toMatchObject({ generation: 1, redrives: 0, status: 'queued' })
        expect(reset && 'handoff' in reset).toBe(false)
        expect(await store.resetVideo('missing')).toBeUndefined()
        // A step of generation 0 finishing now must not write over the new run.
        expect(
          await store.updateVideo('a', 'download', 'done', { title: 'old run' }, { generation: 0 }),
        ).toBeUndefined()
        expect((await store.getVideo('a'))?.stages.download.status).toBe('pending')
        const current = await store.updateVideo('a', 'download', 'running', { title: 'new run' }, { generation: 1 })
        expect(current).toMatchObject({ title: 'new run', status: 'downloading', generation: 1 })
        expect((await store.resetVideo('a'))?.generation).toBe(2)
      })

      it('patches the handoff and redrives at one generation only, moving updatedAt', async () => {
        const { video } = await store.insertVideo(newVideo('a'))
        await tick()
        const patched = await store.patchVideo('a', 0, {
          handoff: handoff('discover', 'a/discover/0/video.discovered'),
          redrives: 1,
        })
        expect(patched).toMatchObject({
          redrives: 1,
          handoff: handoff('discover', 'a/discover/0/video.discovered'),
          status: 'queued',
        })
        expect(patched!.updatedAt > video.updatedAt).toBe(true)
        expect(patched!.stages).toEqual(video.stages)
        expect(await store.patchVideo('a', 1, { redrives: 5 })).toBeUndefined()
        expect(await store.patchVideo('missing', 0, { redrives: 1 })).toBeUndefined()
        expect((await store.getVideo('a'))?.redrives).toBe(1)
      })

      it('lists the unfinished videos not changed since a moment, oldest change first', async () => {
        for (const id of ['queued', 'running', 'waiting', 'indexed', 'failed']) await store.insertVideo(newVideo(id))
        await store.updateVideo('running', 'download', 'running')
        await store.updateVideo('waiting', 'download', 'done', { stages: { transcribe: 'skipped' } })
        await store.updateVideo('indexed', 'index', 'done')
        await store.updateVideo('failed', 'download', 'failed', { error: 'gone' })
        await tick()
        await store.updateVideo('queued', 'download', 'pending')
        const later = new Date(Date.now() + 1000)
        const unfinished = await store.listUnfinishedVideos({ before: later, limit: 10 })
        expect(unfinished.map((video) => video.videoId)).toEqual(['running', 'waiting', 'queued'])
        expect((await store.listUnfinishedVideos({ before: later, limit: 2 })).map((video) => video.videoId)).toEqual([
          'running',
          'waiting',
        ])
        expect(await store.listUnfinishedVideos({ before: new Date(Date.now() - 60_000), limit: 10 })).toEqual([])
      })

      it('lists the jobs whose discovery never finished nor failed', async () => {
        await jobWith('done', ['a'])
        await jobWith('half', ['b'], false)
        await store.createJob({ jobId: 'lost', url: 'u' })
        await store.createJob({ jobId: 'dead', url: 'u' })
        await store.failJob('dead', 'listing failed')
        const stuck = await store.listUndiscoveredJobs({ before: new Date(Date.now() + 1000), limit: 10 })
        expect(stuck.map((job) => job.jobId).sort()).toEqual(['half', 'lost'])
        expect(stuck.every((job) => job.discovered === false)).toBe(true)
        expect(await store.listUndiscoveredJobs({ before: new Date(Date.now() - 60_000), limit: 10 })).toEqual([])
        expect((await store.getJob('done'))?.discovered).toBe(true)
      })
    })

    describe('claimStage', () => {
      it('moves a stage only from the status given', async () => {
        await store.insertVideo(newVideo('claim1'))
        await store.updateVideo('claim1', 'transcribe', 'running')
        expect(await store.claimStage('claim1', 'transcribe', 'pending', 'done')).toBe(false)
        expect(await store.claimStage('claim1', 'transcribe', 'running', 'done')).toBe(true)
        expect((await store.getVideo('claim1'))?.stages.transcribe.status).toBe('done')
        expect(await store.claimStage('claim1', 'transcribe', 'running', 'done')).toBe(false)
        expect(await store.claimStage('nope', 'transcribe', 'running', 'done')).toBe(false)
      })

      it('writes the fields given only when it moves the stage', async () => {
        await store.insertVideo(newVideo('claim3'))
        await store.updateVideo('claim3', 'download', 'done', { stages: { transcribe: 'running' } })
        expect(await store.claimStage('claim3', 'transcribe', 'running', 'done', { chunkCount: 7 })).toBe(true)
        expect(await store.claimStage('claim3', 'transcribe', 'running', 'done', { chunkCount: 9 })).toBe(false)
        expect(await store.getVideo('claim3')).toMatchObject({
          status: 'indexing',
          chunkCount: 7,
          stages: { transcribe: { status: 'done' } },
        })
      })

      it('lets exactly one of many racing callers win', async () => {
        await store.insertVideo(newVideo('claim2'))
        await store.updateVideo('claim2', 'transcribe', 'running')
        const results = await Promise.all(
          Array.from({ length: 8 }, () => store.claimStage('claim2', 'transcribe', 'running', 'done')),
        )
        expect(results.filter(Boolean)).toHaveLength(1)
      })
    })

    describe('channels', () => {
      it('creates a subscription with defaults and a sync state that has not synced', async () => {
        const { created, channel } = await store.upsertChannel(newChannel('UC1'))
        expect(created).toBe(true)
        expect(channel).toEqual({
          channelId: 'UC1',
          url: 'https://www.youtube.com/@UC1',
          listUrl: 'https://www.youtube.com/channel/UC1/videos',
          languages: [],
          speechToText: false,
          backfill: 5,
          intervalSeconds: 3600,
          nextSyncAt: '2030-01-01T00:00:00.000Z',
          consecutiveFailures: 0,
          createdAt: channel.createdAt,
          updatedAt: channel.createdAt,
        })
        expect(Date.parse(channel.createdAt)).not.toBeNaN()
        expect(await store.getChannel('UC1')).toEqual(channel)
      })

      it('keeps every option given', async () => {
        const options = {
          title: 'Chan',
          languages: ['de', 'en'],
          speechToText: true,
          backfill: 'all' as const,
          intervalSeconds: 86_400,
        }
        const { channel } = await store.upsertChannel(newChannel('UC1', options))
        expect(channel).toMatchObject(options)
        expect(await store.getChannel('UC1')).toEqual(channel)
        expect((await store.upsertChannel(newChannel('UC2', { backfill: 0 }))).channel.backfill).toBe(0)
      })

      it('updates the options of an existing subscription, keeping its sync state, createdAt and options not given', async () => {
        const { channel: first } = await store.upsertChannel(
          newChannel('UC1', { title: 'Old', languages: ['en'], speechToText: true }),
        )
        await store.recordChannelSync('UC1', {
          outcome: 'failed',
          at: iso(0),
          nextSyncAt: iso(60_000),
          error: 'HTTP 500',
          videosFound: 0,
        })
        await tick()
        const { created, channel } = await store.upsertChannel(
          newChannel('UC1', {
            url: 'https://www.youtube.com/@new',
            backfill: 'all',
            intervalSeconds: 600,
            nextSyncAt: '2040-01-01T00:00:00.000Z',
          }),
        )
        expect(created).toBe(false)
        expect(channel).toMatchObject({
          url: 'https://www.youtube.com/@new',
          title: 'Old',
          languages: ['en'],
          speechToText: true,
          backfill: 'all',
          intervalSeconds: 600,
          nextSyncAt: iso(60_000),
          lastSyncAt: iso(0),
          lastOutcome: 'failed',
          lastError: 'HTTP 500',
          consecutiveFailures: 1,
          videosFoundLastSync: 0,
          createdAt: first.createdAt,
        })
        expect(channel.updatedAt > first.updatedAt).toBe(true)
        expect(await store.getChannel('UC1')).toEqual(channel)
        const changed = await store.upsertChannel(
          newChannel('UC1', { title: 'New', languages: [], speechToText: false }),
        )
        expect(changed.channel).toMatchObject({
          title: 'New',
          languages: [],
          speechToText: false,
          url: 'https://www.youtube.com/@UC1',
        })
      })

      it('gives a new subscription the defaults for the options not given, and none of its own', async () => {
        const defaults: ChannelDefaults = {
          languages: ['fr'],
          speechToText: true,
          backfill: 'all',
          intervalSeconds: 42,
        }
        const { channel } = await store.upsertChannel(newChannel('UC1', { backfill: 2, defaults }))
        expect(channel).toMatchObject({ languages: ['fr'], speechToText: true, backfill: 2, intervalSeconds: 42 })
        expect(await store.getChannel('UC1')).toEqual(channel)
        await expect(
          store.upsertChannel(newChannel('UC2', { defaults: { ...DEFAULTS, intervalSeconds: 0 } })),
        ).rejects.toThrow(RangeError)
        await expect(store.upsertChannel(newChannel('UC2', { intervalSeconds: -1 }))).rejects.toThrow(RangeError)
        expect(await store.getChannel('UC2')).toBeUndefined()
      })

      it('changes only the options given on a second subscribe: none given keeps every one, whatever the defaults', async () => {
        const options = { title: 'Chan', languages: ['en'], speechToText: true, backfill: 0, intervalSeconds: 8 }
        const { channel: first } = await store.upsertChannel(newChannel('UC1', options))
        expect(first).toMatchObject(options)
        await tick()
        // Different defaults, and a different first-sync time: neither is for an existing subscription.
        const bare = await store.upsertChannel(
          newChannel('UC1', { defaults: DEFAULTS, nextSyncAt: '2040-01-01T00:00:00.000Z' }),
        )
        expect(bare).toEqual({ created: false, channel: first })
        expect(await store.getChannel('UC1')).toEqual(first)

        await tick()
        const some = await store.upsertChannel(newChannel('UC1', { intervalSeconds: 60, languages: ['de', 'en'] }))
        expect(some.created).toBe(false)
        expect(some.channel).toEqual({
          ...first,
          intervalSeconds: 60,
          languages: ['de', 'en'],
          updatedAt: some.channel.updatedAt,
        })
        expect(some.channel.updatedAt > first.updatedAt).toBe(true)
        expect(await store.getChannel('UC1')).toEqual(some.channel)

        // False and zero are options given, not options left out.
        const off = await store.upsertChannel(
          newChannel('UC1', { speechToText: false, backfill: 'all', languages: [] }),
        )
        expect(off.channel).toEqual({
          ...some.channel,
          speechToText: false,
          backfill: 'all',
          languages: [],
          updatedAt: off.channel.updatedAt,
        })
        const zero = await store.upsertChannel(newChannel('UC1', { backfill: 0 }))
        expect(zero.channel).toMatchObject({
          backfill: 0,
          speechToText: false,
          languages: [],
          intervalSeconds: 60,
          title: 'Chan',
        })
      })

      it('changes nothing, not even updatedAt, when the same subscribe is replayed', async () => {
        const first = await store.upsertChannel(newChannel('UC1', { title: 'T', languages: ['en'] }))
        await tick()
        const again = await store.upsertChannel(newChannel('UC1', { title: 'T', languages: ['en'] }))
        expect(again).toEqual({ created: false, channel: first.channel })
      })

      it('returns undefined for an unknown channel, lists every subscription oldest first, and deletes one', async () => {
        expect(await store.getChannel('nope')).toBeUndefined()
        expect(await store.listChannels()).toEqual([])
        for (const channelId of ['UCc', 'UCa', 'UCb']) {
          await store.upsertChannel(newChannel(channelId))
          await tick()
        }
        // An update does not move a subscription in the list.
        await store.upsertChannel(newChannel('UCc', { title: 'updated' }))
        expect((await store.listChannels()).map((channel) => channel.channelId)).toEqual(['UCc', 'UCa', 'UCb'])
        await store.insertVideo(newVideo('v1', { channelId: 'UCa' }))
        expect(await store.deleteChannel('UCa')).toBe(true)
        expect(await store.deleteChannel('UCa')).toBe(false)
        expect(await store.getChannel('UCa')).toBeUndefined()
        expect((await store.listChannels()).map((channel) => channel.channelId)).toEqual(['UCc', 'UCb'])
        // Its videos stay.
        expect((await store.getVideo('v1'))?.channelId).toBe('UCa')
      })

      it('claims the due channels, oldest due first, up to the limit, leasing each', async () => {
        await store.upsertChannel(newChannel('UCnext', { nextSyncAt: iso(1) }))
        await store.upsertChannel(newChannel('UClate', { nextSyncAt: iso(-1000) }))
        await store.upsertChannel(newChannel('UCnow', { nextSyncAt: iso(0) }))
        await store.upsertChannel(newChannel('UCearly', { nextSyncAt: iso(-5000) }))
        const lease = at(600_000)
        const first = await store.claimDueChannels(at(0), lease, 2)
        expect(first.map((channel) => channel.channelId)).toEqual(['UCearly', 'UClate'])
        for (const channel of first) {
          expect(channel.nextSyncAt).toBe(lease.toISOString())
          expect(await store.getChannel(channel.channelId)).toEqual(channel)
        }
        expect((await store.claimDueChannels(at(0), lease, 10)).map((channel) => channel.channelId)).toEqual(['UCnow'])
        expect(await store.claimDueChannels(at(0), lease, 10)).toEqual([])
        expect((await store.getChannel('UCnext'))?.nextSyncAt).toBe(iso(1))
        // Once the lease runs out (the sync never recorded), they are due again.
        const again = await store.claimDueChannels(at(600_000), at(1_200_000), 10)
        expect(again.map((channel) => channel.channelId)).toEqual(['UCnext', 'UCearly', 'UClate', 'UCnow'])
        await expect(store.claimDueChannels(at(0), lease, 0)).rejects.toThrow(RangeError)
      })

      it('gives a claim back only while it still holds that lease', async () => {
        await store.upsertChannel(newChannel('UCa', { nextSyncAt: iso(-1000) }))
        await store.upsertChannel(newChannel('UCb', { nextSyncAt: iso(-1000) }))
        const lease = at(600_000)
        expect(await store.claimDueChannels(at(0), lease, 10)).toHaveLength(2)
        // The sync of UCb ran and recorded itself meanwhile: its new schedule stays.
        await store.recordChannelSync('UCb', { outcome: 'ok', at: iso(1), nextSyncAt: iso(3_600_000) })
        expect(await store.releaseChannelClaim('UCa', lease, at(0))).toBe(true)
        expect(await store.releaseChannelClaim('UCb', lease, at(0))).toBe(false)
        expect(await store.releaseChannelClaim('UCa', lease, at(0))).toBe(false)
        expect(await store.releaseChannelClaim('nope', lease, at(0))).toBe(false)
        expect((await store.getChannel('UCb'))?.nextSyncAt).toBe(iso(3_600_000))
        expect((await store.claimDueChannels(at(0), lease, 10)).map((channel) => channel.channelId)).toEqual(['UCa'])
      })

      it('gives each due channel to exactly one of many concurrent claimers', async () => {
        const ids = Array.from({ length: 10 }, (_, i) => `UC${String(i).padStart(2, '0')}`)
        for (const [i, channelId] of ids.entries())
          await store.upsertChannel(newChannel(channelId, { nextSyncAt: iso(-i * 1000) }))
        const results = await Promise.all(
          Array.from({ length: 5 }, () => store.claimDueChannels(at(0), at(600_000), 3)),
        )
        const claimed = results.flat().map((channel) => channel.channelId)
        expect(claimed.sort()).toEqual(ids)
        for (const result of results) expect(result.length).toBeLessThanOrEqual(3)
      })

      it('records syncs: ok resets the failures, failed adds one, rate-limited leaves them', async () => {
        expect(await store.recordChannelSync('nope', { outcome: 'ok', at: iso(0), nextSyncAt: iso(1) })).toBeUndefined()
        const { channel: created } = await store.upsertChannel(newChannel('UC1'))
        const failed = await store.recordChannelSync('UC1', {
          outcome: 'failed',
          at: iso(0),
          nextSyncAt: iso(7_200_000),
          error: 'HTTP 500',
        })
        expect(failed).toMatchObject({
          lastSyncAt: iso(0),
          lastOutcome: 'failed',
          lastError: 'HTTP 500',
          consecutiveFailures: 1,
          nextSyncAt: iso(7_200_000),
          createdAt: created.createdAt,
        })
        expect(failed?.videosFoundLastSync).toBeUndefined()
        expect(await store.getChannel('UC1')).toEqual(failed)
        expect(
          (
            await store.recordChannelSync('UC1', {
              outcome: 'failed',
              at: iso(1),
              nextSyncAt: iso(2),
              error: 'HTTP 502',
            })
          )?.consecutiveFailures,
        ).toBe(2)

        const limited = await store.recordChannelSync('UC1', {
          outcome: 'rate-limited',
          at: iso(2),
          nextSyncAt: iso(3),
        })
        expect(limited).toMatchObject({
          lastOutcome: 'rate-limited',
          consecutiveFailures: 2,
          lastSyncAt: iso(2),
          nextSyncAt: iso(3),
        })
        // Cleared when absent.
        expect(limited && 'lastError' in limited).toBe(false)

        const ok = await store.recordChannelSync('UC1', {
          outcome: 'ok',
          at: iso(3),
          nextSyncAt: iso(3_600_000),
          videosFound: 4,
        })
        expect(ok).toMatchObject({
          lastOutcome: 'ok',
          consecutiveFailures: 0,
          videosFoundLastSync: 4,
          nextSyncAt: iso(3_600_000),
        })
        // videosFound kept when not given.
        const quiet = await store.recordChannelSync('UC1', {
          outcome: 'failed',
          at: iso(4),
          nextSyncAt: iso(5),
          error: 'feed down',
        })
        expect(quiet).toMatchObject({ videosFoundLastSync: 4, consecutiveFailures: 1, lastError: 'feed down' })
        expect(await store.getChannel('UC1')).toEqual(quiet)
      })

      it('counts every one of concurrent failed syncs', async () => {
        await store.upsertChannel(newChannel('UC1'))
        await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            store.recordChannelSync('UC1', { outcome: 'failed', at: iso(i), nextSyncAt: iso(60_000), error: `e${i}` }),
          ),
        )
        expect((await store.getChannel('UC1'))?.consecutiveFailures).toBe(6)
      })
    })

    describe('host politeness', () => {
      it('spaces reservations to one host, and never gives a slot before now', async () => {
        const options = (offsetMs: number) => ({ now: at(offsetMs), spacingMs: 1000 })
        expect(await store.reserveHostRequest('www.youtube.com', options(0))).toEqual({ at: iso(0) })
        expect(await store.reserveHostRequest('www.youtube.com', options(0))).toEqual({ at: iso(1000) })
        expect(await store.reserveHostRequest('www.youtube.com', options(500))).toEqual({ at: iso(2000) })
        // Another host has its own spacing.
        expect(await store.reserveHostRequest('vimeo.com', options(500))).toEqual({ at: iso(500) })
        // Long after the last slot, the next one is now.
        expect(await store.reserveHostRequest('www.youtube.com', options(10_000))).toEqual({ at: iso(10_000) })
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(10_000), spacingMs: 0 })).toEqual({
          at: iso(10_000),
        })
      })

      it('gives concurrent callers distinct slots, spacingMs apart', async () => {
        const slots = await Promise.all(
          Array.from({ length: 5 }, () => store.reserveHostRequest('www.youtube.com', { now: at(0), spacingMs: 1000 })),
        )
        expect(slots.map((slot) => slot.at).sort()).toEqual([0, 1000, 2000, 3000, 4000].map(iso))
      })

      it('answers a backed-off host with the backoff and reserves nothing', async () => {
        const spacing = { spacingMs: 1000 }
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(0), ...spacing })).toEqual({ at: iso(0) })
        await store.backOffHost('www.youtube.com', at(60_000), 'HTTP 429')
        const backedOff = { at: iso(60_000), backoffUntil: iso(60_000), backoffReason: 'HTTP 429' }
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(1), ...spacing })).toEqual(backedOff)
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(59_999), ...spacing })).toEqual(backedOff)
        // Other hosts go on.
        expect(await store.reserveHostRequest('vimeo.com', { now: at(1), ...spacing })).toEqual({ at: iso(1) })
        // Once it ends, slots are spaced from the last real reservation, not from the refused ones.
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(60_000), ...spacing })).toEqual({
          at: iso(60_000),
        })
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(60_000), ...spacing })).toEqual({
          at: iso(61_000),
        })
      })

      it('tells a backoff that runs without reserving anything, and nothing once it ended', async () => {
        expect(await store.hostBackoff('www.youtube.com', at(0))).toBeUndefined()
        await store.backOffHost('www.youtube.com', at(60_000), 'Sign in to confirm you’re not a bot')
        expect(await store.hostBackoff('www.youtube.com', at(1))).toEqual({
          until: iso(60_000),
          reason: 'Sign in to confirm you’re not a bot',
        })
        expect(await store.hostBackoff('vimeo.com', at(1))).toBeUndefined()
        expect(await store.hostBackoff('www.youtube.com', at(60_000))).toBeUndefined()
        // Asking took no slot: the next reservation after the backoff is at its end, not spaced from a read.
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(60_000), spacingMs: 1000 })).toEqual({
          at: iso(60_000),
        })
        expect(await store.hostBackoff('www.youtube.com', at(60_001))).toBeUndefined()
      })

      it('backs off a host never reserved, and a later backoff wins over an earlier one', async () => {
        await store.backOffHost('www.youtube.com', at(30_000), 'first')
        await store.backOffHost('www.youtube.com', at(90_000), 'later')
        await store.backOffHost('www.youtube.com', at(60_000), 'earlier')
        await store.backOffHost('www.youtube.com', at(90_000), 'same end')
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(0), spacingMs: 1000 })).toEqual({
          at: iso(90_000),
          backoffUntil: iso(90_000),
          backoffReason: 'later',
        })
        await Promise.all(
          [120_000, 100_000, 110_000].map((ms) => store.backOffHost('www.youtube.com', at(ms), `until ${ms}`)),
        )
        expect(await store.reserveHostRequest('www.youtube.com', { now: at(0), spacingMs: 1000 })).toMatchObject({
          backoffUntil: iso(120_000),
          backoffReason: 'until 120000',
        })
      })
    })

    it('counts the work in progress: active jobs and how long the oldest has been quiet, videos by stage and status, hosts backed off', async () => {
      const now = new Date()
      expect(await store.workInProgress(now)).toEqual({
        activeJobs: 0,
        oldestActiveIdleSeconds: 0,
        videos: [],
        hostsBackedOff: 0,
      })
      // Active: one still listing, one with a video downloading. Not: one whose videos are all
      // indexed, one that failed as a whole.
      await store.createJob({ jobId: 'listing', url: 'https://www.youtube.com/@a' })
      await store.createJob({ jobId: 'busy', url: 'https://www.youtube.com/@b' })
      await store.insertVideo(newVideo('a'))
      await store.insertVideo(newVideo('b'))
      await store.addJobVideos('busy', ['a', 'b'])
      await store.markJobDiscovered('busy')
      await store.updateVideo('a', 'download', 'running')
      await store.updateVideo('b', 'download', 'done', { stages: { transcribe: 'skipped', index: 'done' } })
      await store.createJob({ jobId: 'finished', url: 'https://www.youtube.com/@c' })
      await store.insertVideo(newVideo('c'))
      await store.updateVideo('c', 'download', 'done', { stages: { transcribe: 'skipped', index: 'done' } })
      await store.addJobVideos('finished', ['c'])
      await store.markJobDiscovered('finished')
      await store.createJob({ jobId: 'broken', url: 'https://www.youtube.com/@d' })
      await store.failJob('broken', 'no such page')
      await store.backOffHost('www.youtube.com', new Date(now.getTime() + 60_000), 'bot check')
      await store.backOffHost('vimeo.com', new Date(now.getTime() - 60_000), 'over')

      const later = new Date(Date.now() + 30_000)
      const work = await store.workInProgress(later)
      expect(work.activeJobs).toBe(2)
      expect(work.oldestActiveIdleSeconds).toBeGreaterThanOrEqual(29)
      expect(work.oldestActiveIdleSeconds).toBeLessThan(120)
      expect(work.hostsBackedOff).toBe(1)
      const count = (stage: string, status: string) =>
        work.videos.find((entry) => entry.stage === stage && entry.status === status)?.count ?? 0
      expect([
        count('download', 'running'),
        count('download', 'done'),
        count('index', 'pending'),
        count('index', 'done'),
        count('transcribe', 'skipped'),
      ]).toEqual([1, 2, 1, 2, 2])
      expect(work.videos.every((entry) => entry.count > 0)).toBe(true)
      // Each video once per stage.
      expect(work.videos.reduce((total, entry) => total + entry.count, 0)).toBe(3 * 3)
    })

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
