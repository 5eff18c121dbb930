// download's speech-to-text path with the real yt-dlp and ffmpeg: fixture pages whose video has
// no caption track, spoken with espeak-ng.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { HARBOUR_STORY, makeSpeechFixture, type SpeechFixture } from '@ytrag/media/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { blobKeys } from '@ytrag/stores'
import { loadCaptionFixture, startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import type { VideoInfo } from '@ytrag/youtube'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { sendAudioSegments } from '../src/audio.ts'
import { download, NO_CAPTIONS_REASON } from '../src/index.ts'

describe('download, audio path', () => {
  let dir: string
  let speech: SpeechFixture
  let fixtures: FixtureServer
  let openai: OpenAiTestServer
  let fn: FunctionUnderTest | undefined

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-download-audio-'))
    speech = await makeSpeechFixture(dir, HARBOUR_STORY.slice(0, 16))
    const corrupt = join(dir, 'corrupt.mp4')
    writeFileSync(corrupt, Buffer.from('this is not a media file at all, just words pretending to be one'.repeat(50)))
    fixtures = await startFixtureServer({
      videos: [
        { name: 'harbour', title: 'The harbour', mediaFile: speech.file },
        { name: 'broken', title: 'A broken upload', mediaFile: corrupt },
        {
          name: 'talk',
          title: 'A captioned talk',
          mediaFile: speech.file,
          captions: [{ lang: 'en', vtt: loadCaptionFixture('bicycle-history') }],
        },
      ],
    })
    openai = await startOpenAiTestServer()
  }, 60_000)
  afterAll(async () => {
    await Promise.all([fixtures?.close(), openai?.close()])
    rmSync(dir, { recursive: true, force: true })
  })
  afterEach(async () => {
    await fn?.close()
    fn = undefined
  })

  const start = async (env: Record<string, string> = {}) => {
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__AUDIO__SEGMENT_SECONDS: '30',
      ...env,
    })
    return fn
  }
  const discovered = async (f: FunctionUnderTest, name: string, extra: object = {}) => {
    const videoId = `${name}-1`
    await f.stores.documents.createJob({ jobId: 'job', url: fixtures.url(`/${name}.html`) })
    await f.stores.documents.insertVideo({ videoId, url: fixtures.url(`/${name}.html`) })
    await f.stores.documents.addJobVideos('job', [videoId])
    await f.stores.documents.markJobDiscovered('job')
    return { videoId, data: { jobId: 'job', videoId, url: fixtures.url(`/${name}.html`), force: false, ...extra } }
  }

  it('cuts a video without captions into Opus segments that cover it end to end, and announces each', async () => {
    const f = await start()
    const { videoId, data } = await discovered(f, 'harbour')
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    const events = f.sink.events.filter((event) => event.name === 'audio.segment.ready')
    expect(events.length).toBeGreaterThanOrEqual(2)
    const segments = events.map(
      (event) =>
        event.data as { index: number; count: number; startSeconds: number; durationSeconds: number; blobKey: string },
    )
    expect(segments.map((segment) => segment.index)).toEqual([...segments.keys()])
    expect(segments.every((segment) => segment.count === segments.length && segment.durationSeconds <= 30)).toBe(true)
    expect(segments[0]!.startSeconds).toBe(0)
    // Each starts where the last ended (a cut in a pause) or up to 2 s before it (a cut with no pause near, overlapped).
    for (let i = 1; i < segments.length; i++) {
      const previousEnd = segments[i - 1]!.startSeconds + segments[i - 1]!.durationSeconds
      expect(segments[i]!.startSeconds).toBeLessThanOrEqual(previousEnd + 0.01)
      expect(segments[i]!.startSeconds).toBeGreaterThanOrEqual(previousEnd - 2.01)
    }
    const last = segments.at(-1)!
    expect(last.startSeconds + last.durationSeconds).toBeCloseTo(speech.seconds, 0)
    for (const segment of segments) {
      const bytes = await f.stores.blobs.get(segment.blobKey)
      expect(new TextDecoder().decode(bytes!.subarray(0, 4))).toBe('OggS')
    }
    const video = await f.stores.documents.getVideo(videoId)
    expect(video).toMatchObject({
      status: 'transcribing',
      audio: { segmentCount: segments.length, segmentsDone: [], secondsDone: 0 },
    })
    expect(video?.audio?.seconds).toBeCloseTo(speech.seconds, 0)
    expect(video?.stages).toMatchObject({ download: { status: 'done' }, transcribe: { status: 'running' } })
    expect((await f.stores.documents.getJob('job'))?.audioMinutes.queued).toBeCloseTo(speech.seconds / 60, 0)
    // A redelivery after the step is done cuts nothing again: it sends the same segments' events
    // again (the same ids), in case the first sends were refused.
    const before = await f.stores.documents.getVideo(videoId)
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    expect(await f.stores.documents.getVideo(videoId)).toEqual(before)
    const resent = f.sink.events.filter((event) => event.name === 'audio.segment.ready').slice(segments.length)
    expect(resent.map((event) => event.id)).toEqual(events.map((event) => event.id))
    expect(new Set(events.map((event) => event.id)).size).toBe(segments.length)
  }, 60_000)

  it('transcribes the audio of a captioned video when speech-to-text is asked for', async () => {
    const f = await start()
    const { videoId, data } = await discovered(f, 'talk', { speechToText: true })
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    expect(new Set(f.sink.events.map((event) => event.name))).toEqual(new Set(['audio.segment.ready']))
  }, 60_000)

  it('still fails a video without captions when no speech-to-text provider is configured', async () => {
    const f = await start({ YOUTUBE_RAG__OPENAI__BASE_URL: '' })
    const { videoId, data } = await discovered(f, 'harbour')
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    expect((await f.stores.documents.getVideo(videoId))?.error).toBe(NO_CAPTIONS_REASON)
  })

  it('refuses a video longer than the limit with the reason, storing and announcing no audio', async () => {
    const f = await start({ YOUTUBE_RAG__AUDIO__MAX_DURATION_SECONDS: '20' })
    const { videoId, data } = await discovered(f, 'harbour')
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    const video = await f.stores.documents.getVideo(videoId)
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(
      /^the video is 0:0\d:\d\d long; speech-to-text takes videos up to 0:00:20 \(YOUTUBE_RAG__AUDIO__MAX_DURATION_SECONDS\)$/,
    )
    expect(await f.stores.blobs.head(blobKeys.audioSegment(videoId, 0))).toBeUndefined()
    expect(f.sink.events.map((event) => event.name)).toEqual(['video.failed'])
  }, 60_000)

  it('refuses before downloading anything when the metadata already gives the length', async () => {
    const f = await start({ YOUTUBE_RAG__AUDIO__MAX_DURATION_SECONDS: '3600' })
    const before = fixtures.requests.length
    const info = {
      videoId: 'long',
      url: fixtures.url('/harbour.html'),
      durationSeconds: 3 * 3600,
      raw: {},
    } as unknown as VideoInfo
    const context = { stores: f.stores, config: f.config, providers: f.providers } as Parameters<
      typeof sendAudioSegments
    >[3]
    const { video } = await f.stores.documents.insertVideo({ videoId: 'long', url: info.url })
    expect(await sendAudioSegments(info, video, { jobId: 'job', videoId: 'long' }, context)).toBe(
      'the video is 3:00:00 long; speech-to-text takes videos up to 1:00:00 (YOUTUBE_RAG__AUDIO__MAX_DURATION_SECONDS)',
    )
    expect(fixtures.requests.length).toBe(before)
  })

  it('fails a video whose media cannot be read, with the reason', async () => {
    const f = await start()
    const { videoId, data } = await discovered(f, 'broken')
    expect((await f.deliver('video.discovered', videoId, data)).status).toBe(202)
    const video = await f.stores.documents.getVideo(videoId)
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(/^the audio could not be read: ffmpeg failed/)
  }, 60_000)
})
