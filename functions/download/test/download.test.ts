import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { listVideos } from '@ytrag/youtube'
import { loadCaptionFixture, startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { captionsPastEnd, download, LISTED_INFO_MAX_AGE_MS, NO_CAPTIONS_REASON } from '../src/index.ts'

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
      expect(fn.sink.events[0]?.data).toMatchObject({
        blobKey: blobKeys.transcript('all-3'),
        source: 'captions',
        language: 'en',
      })
      const vtt = new TextDecoder().decode(await fn.stores.blobs.get(blobKeys.captions('all-3', 'en')))
      expect(vtt).toMatch(/^WEBVTT/)
      const transcript = (await transcriptBlob.read(fn.stores.blobs, blobKeys.transcript('all-3')))!
      expect(transcript.segments.some((segment) => segment.text.includes('penny-farthing'))).toBe(true)
      const video = await fn.stores.documents.getVideo('all-3')
      expect(video).toMatchObject({
        status: 'indexing',
        transcript: { source: 'captions', language: 'en', segmentCount: transcript.segments.length },
        // The page's `<video src>`, for the web page's player.
        mediaUrl: fixtures.url('/media/bicycle.mp4'),
      })
      expect(video?.stages.transcribe.status).toBe('skipped')
    })
  }

  it("reads a video of a multi-video page from the listing's info, without fetching the page again, while it is fresh", async () => {
    const page = fixtures.url('/all.html')
    const { videos } = await listVideos(page, { egress: { allowedHosts: [fixtures.host] } })
    const listedAt = (ageMs: number) => new Date(Date.now() - ageMs).toISOString()
    const putListed = (videoId: string, listed: object) =>
      fn.stores.blobs.put(blobKeys.listedInfo(videoId), JSON.stringify(listed), 'application/json')
    const entry = (videoId: string) => videos.find((video) => video.videoId === videoId)!.listed!

    // Fresh: the page is not read again; the captions themselves are still fetched.
    await putListed('all-3', { page, playlistItem: 3, listedAt: listedAt(0), info: entry('all-3') })
    const pageReads = () => fixtures.requests.filter((request) => request.startsWith('/all.html')).length
    const before = pageReads()
    expect((await fn.deliver('video.discovered', 'all-3', await discovered('all-3', 3))).status).toBe(202)
    expect(pageReads()).toBe(before)
    expect(fn.sink.events.map((event) => [event.name, event.subject])).toEqual([['transcript.ready', 'all-3']])
    expect((await fn.stores.documents.getVideo('all-3'))?.mediaUrl).toBe(fixtures.url('/media/bicycle.mp4'))
    const transcript = (await transcriptBlob.read(fn.stores.blobs, blobKeys.transcript('all-3')))!
    expect(transcript.segments.some((segment) => segment.text.includes('penny-farthing'))).toBe(true)

    // Too old, or of another place on the page: the page is read as before.
    await putListed('all-1', {
      page,
      playlistItem: 1,
      listedAt: listedAt(LISTED_INFO_MAX_AGE_MS + 60_000),
      info: entry('all-1'),
    })
    await putListed('all-2', { page, playlistItem: 3, listedAt: listedAt(0), info: entry('all-2') })
    for (const [videoId, item] of [
      ['all-1', 1],
      ['all-2', 2],
    ] as const) {
      const reads = pageReads()
      expect((await fn.deliver('video.discovered', videoId, await discovered(videoId, item))).status).toBe(202)
      expect(pageReads()).toBeGreaterThan(reads)
      expect(await fn.stores.documents.getVideo(videoId)).toMatchObject({ status: 'indexing' })
    }
  })

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
    const parallel = await Promise.all(
      [1, 2, 3].map(() => fn.deliver('video.discovered', 'all-2', data, { id: 'triple' })),
    )
    expect(parallel.map((answer) => answer.status)).toEqual([202, 202, 202])
    const video = await fn.stores.documents.getVideo('all-2')
    const transcript = await fn.stores.blobs.get(blobKeys.transcript('all-2'))
    for (let i = 0; i < 3; i++)
      expect((await fn.deliver('video.discovered', 'all-2', data, { id: 'triple' })).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-2')).toMatchObject({
      status: 'indexing',
      transcript: video!.transcript,
    })
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
    while ((await fn.stores.documents.getVideo('all-3'))?.status !== 'downloading' && Date.now() < deadline)
      await new Promise((done) => setTimeout(done, 5))
    expect(await fn.stores.documents.deleteVideo('all-3')).toBe(true)
    expect((await answer).status).toBe(202)
    expect(await fn.stores.blobs.deleteByPrefix(blobKeys.videoPrefix('all-3'))).toBe(0)
    expect(fn.sink.events).toEqual([])
  })

  it('marks a video without captions failed with the reason, answers 2xx and sends video.failed', async () => {
    const data = await discovered('all-4', 4)
    expect((await fn.deliver('video.discovered', 'all-4', data)).status).toBe(202)
    expect(await fn.stores.documents.getVideo('all-4')).toMatchObject({ status: 'failed', error: NO_CAPTIONS_REASON })
    expect(fn.sink.events.map((event) => [event.name, (event.data as { reason: string }).reason])).toEqual([
      ['video.failed', NO_CAPTIONS_REASON],
    ])
    expect(await fn.stores.documents.getJob('job')).toMatchObject({
      status: 'failed',
      errors: [{ videoId: 'all-4', message: NO_CAPTIONS_REASON }],
    })
  })

  it("refuses captions whose cues run past the video's end (a short clip paired with a long text), storing nothing of them", async () => {
    // A 30 s video as its page describes it (JSON-LD duration), with a talk's 160 s of captions.
    const site = await startFixtureServer({
      videos: [
        {
          name: 'short',
          title: 'A short clip',
          captions: [{ lang: 'en', vtt: loadCaptionFixture('database-indexing') }],
          chapters: [{ title: 'All of it', start: 0, end: 30 }],
        },
      ],
    })
    try {
      await fn.close()
      fn = await startFunctionUnderTest(download, {
        YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: site.host,
        YOUTUBE_RAG__INGEST__CAPTION_SLACK_SECONDS: '10',
      })
      await fn.stores.documents.createJob({ jobId: 'job', url: site.url('/short.html') })
      await fn.stores.documents.insertVideo({ videoId: 'short', url: site.url('/short.html') })
      await fn.stores.documents.addJobVideos('job', ['short'])
      await fn.stores.documents.markJobDiscovered('job')
      const data = { jobId: 'job', videoId: 'short', url: site.url('/short.html'), force: false }
      expect((await fn.deliver('video.discovered', 'short', data)).status).toBe(202)
      const video = await fn.stores.documents.getVideo('short')
      expect(video?.durationSeconds).toBe(30)
      expect(video?.status).toBe('failed')
      expect(video?.error).toMatch(
        /^the en captions were refused: a cue starts at \d+ s, past the video's end at 30 s \(more than YOUTUBE_RAG__INGEST__CAPTION_SLACK_SECONDS = 10 s after it\)/,
      )
      expect(await fn.stores.blobs.get(blobKeys.transcript('short')).catch(() => undefined)).toBeUndefined()
      expect(fn.sink.events.map((event) => event.name)).toEqual(['video.failed'])
    } finally {
      await site.close()
    }
  })

  it('refuses a caption file over YOUTUBE_RAG__INGEST__CAPTION_MAX_BYTES, storing nothing of it', async () => {
    await fn.close()
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
      YOUTUBE_RAG__INGEST__CAPTION_MAX_BYTES: '1000',
    })
    await fn.stores.documents.createJob({ jobId: 'job', url: fixtures.url('/all.html') })
    const data = await discovered('all-3', 3)
    expect((await fn.deliver('video.discovered', 'all-3', data)).status).toBe(202)
    const video = await fn.stores.documents.getVideo('all-3')
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(
      /^the en captions of .* are \d+ bytes; at most 1000 are taken \(YOUTUBE_RAG__INGEST__CAPTION_MAX_BYTES\)$/,
    )
    expect(await fn.stores.blobs.get(blobKeys.captions('all-3', 'en')).catch(() => undefined)).toBeUndefined()
  })
})

// YouTube can't be reached from tests, and the fixture site has no live streams: a stand-in for
// yt-dlp answers `-J` for YouTube URLs with canned info JSON shaped like yt-dlp's, and hands a
// caption download (`--load-info-json`) to the real yt-dlp, which fetches the track from the
// fixture site named in that info.
describe('download of YouTube videos (a yt-dlp stand-in): live streams and caption choice', () => {
  let fixtures: FixtureServer
  let fn: FunctionUnderTest | undefined
  let dir: string
  let scripts = 0
  const CHANNEL = 'UCabcdefghijklmnopqrstuv'
  const watch = (id: string) => `https://www.youtube.com/watch?v=${id}`

  beforeAll(async () => {
    fixtures = await startFixtureServer()
    dir = await mkdtemp(join(tmpdir(), 'ytrag-download-standin-'))
  })
  afterAll(async () => {
    await fixtures.close()
    await rm(dir, { recursive: true, force: true })
  })
  afterEach(async () => {
    await fn?.close()
    fn = undefined
  })

  const youtubeInfo = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    title: `Stream ${id}`,
    extractor: 'youtube',
    extractor_key: 'Youtube',
    webpage_url: watch(id),
    duration: 160,
    channel_id: CHANNEL,
    channel: 'Some Channel',
    upload_date: '20260102',
    formats: [
      {
        format_id: '18',
        url: fixtures.url('/media/indexing.mp4'),
        ext: 'mp4',
        protocol: 'http',
        vcodec: 'avc1',
        acodec: 'mp4a',
      },
    ],
    subtitles: {},
    automatic_captions: {},
    ...extra,
  })
  /** A caption track as YouTube lists it (json3 first, vtt among the rest), served by the fixture site. */
  const track = (name: string) => [
    { ext: 'json3', url: fixtures.url(`/captions/${name}.en.vtt?fmt=json3`) },
    { ext: 'vtt', url: fixtures.url(`/captions/${name}.en.vtt`) },
  ]

  /** Starts download with a stand-in that answers `-J` for the video: its info, or yt-dlp's error. */
  const start = async (videoId: string, reply: { info: Record<string, unknown> } | { error: string }) => {
    const script = join(dir, `yt-dlp-${++scripts}.sh`)
    const out = `${script}.out`
    await writeFile(out, 'info' in reply ? JSON.stringify(reply.info) : '')
    await writeFile(`${script}.err`, 'error' in reply ? `ERROR: [youtube] ${videoId}: ${reply.error}\n` : '')
    await writeFile(
      script,
      [
        '#!/bin/sh',
        'case " $* " in *" --load-info-json "*) exec yt-dlp "$@" ;; esac',
        `cat '${out}'; cat '${script}.err' >&2`,
        `exit ${'error' in reply ? 1 : 0}`,
        '',
      ].join('\n'),
    )
    await chmod(script, 0o755)
    fn = await startFunctionUnderTest(download, {
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: `www.youtube.com,${fixtures.host}`,
      YOUTUBE_RAG__TOOLS__YTDLP_PATH: script,
    })
    await fn.stores.documents.createJob({ jobId: 'job', url: watch(videoId) })
    await fn.stores.documents.insertVideo({ videoId, url: watch(videoId), channelId: CHANNEL })
    await fn.stores.documents.addJobVideos('job', [videoId])
    await fn.stores.documents.markJobDiscovered('job')
    return fn
  }
  const deliver = async (fn: FunctionUnderTest, videoId: string, language?: string) => {
    const answer = await fn.deliver('video.discovered', videoId, {
      jobId: 'job',
      videoId,
      url: watch(videoId),
      force: false,
      ...(language ? { language } : {}),
    })
    expect(answer.status).toBe(202)
    return fn.stores.documents.getVideo(videoId)
  }

  it('skips a stream on air with the reason, sends nothing, counts it as skipped, and takes a redelivery once', async () => {
    const id = 'LiveNow-_01'
    const fn = await start(id, {
      info: youtubeInfo(id, {
        live_status: 'is_live',
        is_live: true,
        automatic_captions: { 'en-orig': track('indexing') },
      }),
    })
    const video = await deliver(fn, id)
    expect(video).toMatchObject({
      status: 'skipped',
      liveStatus: 'is_live',
      skipReason: 'a live stream still on air; it is read again once it has ended',
      title: `Stream ${id}`,
    })
    expect(video?.stages).toMatchObject({
      download: { status: 'skipped' },
      transcribe: { status: 'skipped' },
      index: { status: 'skipped' },
    })
    expect(video?.error).toBeUndefined()
    expect(fn.sink.events).toEqual([])
    expect(await fn.stores.documents.getJob('job')).toMatchObject({
      status: 'succeeded',
      videos: { total: 1, indexed: 0, failed: 0, skipped: 1 },
      errors: [],
      skipped: [{ videoId: id, reason: video?.skipReason }],
    })
    expect(await fn.stores.blobs.get(blobKeys.transcript(id))).toBeUndefined()
    expect(await deliver(fn, id)).toEqual(video)
    expect(fn.sink.events).toEqual([])
  })

  it('skips a stream that has ended but is not processed yet', async () => {
    const id = 'PostLive_02'
    const fn = await start(id, {
      info: youtubeInfo(id, {
        live_status: 'post_live',
        was_live: true,
        automatic_captions: { 'en-orig': track('indexing') },
      }),
    })
    expect(await deliver(fn, id)).toMatchObject({
      status: 'skipped',
      liveStatus: 'post_live',
      skipReason: expect.stringMatching(/still being processed/),
    })
  })

  it('skips an upcoming stream, naming its scheduled start', async () => {
    const id = 'Upcoming_03'
    const fn = await start(id, {
      info: youtubeInfo(id, { live_status: 'is_upcoming', upload_date: undefined, release_timestamp: 1_893_456_000 }),
    })
    expect(await deliver(fn, id)).toMatchObject({
      status: 'skipped',
      liveStatus: 'is_upcoming',
      publishedAt: '2030-01-01T00:00:00.000Z',
      skipReason:
        'a live stream or premiere that has not started yet; it is read again once it has been shown (scheduled for 2030-01-01T00:00:00.000Z)',
    })
  })

  it('skips a premiere YouTube refuses to describe before it starts, without a retry', async () => {
    const id = 'Premiere_04'
    const fn = await start(id, { error: 'Premieres in 17 hours' })
    expect(await deliver(fn, id)).toMatchObject({
      status: 'skipped',
      liveStatus: 'is_upcoming',
      skipReason: expect.stringMatching(/has not started yet/),
    })
    expect(fn.sink.events).toEqual([])
  })

  it("reads an ended stream in its original language (YouTube's -orig track), not the translation asked for, and records why", async () => {
    const id = 'WasLive_-05'
    const chapters = [
      { start_time: 0, end_time: 63.5, title: 'Warm-up' },
      { start_time: 63.5, end_time: 160, title: 'Covering indexes' },
    ]
    const info = youtubeInfo(id, {
      live_status: 'was_live',
      was_live: true,
      chapters,
      // Spoken German: its speech recognition twice (de-orig, de) and an English machine translation.
      automatic_captions: { 'de-orig': track('indexing'), de: track('indexing'), en: track('bicycle') },
    })
    const fn = await start(id, { info })
    const video = await deliver(fn, id, 'en')
    expect(video).toMatchObject({
      status: 'indexing',
      liveStatus: 'was_live',
      language: 'de',
      chapters: [
        { title: 'Warm-up', start: 0, end: 63.5 },
        { title: 'Covering indexes', start: 63.5, end: 160 },
      ],
      transcript: { source: 'auto-captions', language: 'de', track: 'de-orig', choice: 'original-language' },
    })
    expect(video?.skipReason).toBeUndefined()
    // Its format is a plain mp4 with audio and video (served by the fixture site, on an allowed
    // host), but a YouTube video is played by YouTube's embed: no media URL is kept.
    expect(video && 'mediaUrl' in video).toBe(false)
    const transcript = (await transcriptBlob.read(fn.stores.blobs, blobKeys.transcript(id)))!
    expect(transcript.language).toBe('de')
    // The words of the -orig track's file, not of the translation's.
    expect(transcript.segments.map((segment) => segment.text).join(' ')).toMatch(/covering index/i)
    expect(fn.sink.events.map((event) => [event.name, (event.data as { language: string }).language])).toEqual([
      ['transcript.ready', 'de'],
    ])
    expect(await fn.stores.blobs.get(blobKeys.captions(id, 'de-orig'))).toBeDefined()
  })
})

describe('captionsPastEnd', () => {
  const cues = (...starts: number[]) => starts.map((start) => ({ start }))

  it('takes cues up to the end plus the slack, and refuses a file with one after that', () => {
    expect(captionsPastEnd(cues(0, 50, 119), 60, 60)).toBeUndefined()
    expect(captionsPastEnd(cues(0, 50, 900), 60, 60)).toBe(
      "a cue starts at 900 s, past the video's end at 60 s (more than YOUTUBE_RAG__INGEST__CAPTION_SLACK_SECONDS = 60 s after it); the captions are not the video's",
    )
  })

  it('decides nothing without a duration', () => {
    expect(captionsPastEnd(cues(99_999), undefined, 0)).toBeUndefined()
  })
})
