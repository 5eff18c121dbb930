// transcribe over HTTP with real audio: espeak-ng speech cut into Opus segments by the media
// package, and the OpenAI-compatible test server answering each upload from what it hears.
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFunctionUnderTest, type FunctionUnderTest } from '@ytrag/function/testing'
import { detectSilences, encodeSegments, planSegments, toSpeechWav, type EncodedSegment } from '@ytrag/media'
import { HARBOUR_STORY, makeSpeechFixture, speechFixtureTranscriber, type SpeechFixture } from '@ytrag/media/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { blobKeys, transcriptBlob } from '@ytrag/stores'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { transcribe } from '../src/index.ts'

const SEGMENT_SECONDS = 50
const videoId = 'vid-stt-1'
const jobId = 'job-stt-1'

describe('transcribe over HTTP', () => {
  let dir: string
  let speech: SpeechFixture
  let segments: EncodedSegment[]
  let transcriber: ReturnType<typeof speechFixtureTranscriber>
  let openai: OpenAiTestServer
  let fn: FunctionUnderTest

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-transcribe-'))
    speech = await makeSpeechFixture(dir, [...HARBOUR_STORY])
    const wav = await toSpeechWav(speech.file, join(dir, 'speech.wav'))
    const plan = planSegments(wav.seconds, await detectSilences(wav.file), { maxSeconds: SEGMENT_SECONDS })
    segments = await encodeSegments(wav.file, plan, join(dir, 'segments'))
    transcriber = speechFixtureTranscriber(speech.timeline, { maxSeconds: SEGMENT_SECONDS })
    openai = await startOpenAiTestServer({ transcriptionScript: transcriber.script })
  }, 120_000)
  afterAll(async () => {
    await openai?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  beforeEach(async () => {
    openai.reset()
    transcriber.heard.length = 0
    fn = await startFunctionUnderTest(transcribe, { YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl })
    const { documents, blobs } = fn.stores
    await documents.createJob({ jobId, url: 'https://www.youtube.com/watch?v=x' })
    await documents.insertVideo({ videoId, url: `https://www.youtube.com/watch?v=${videoId}`, title: 'The harbour' })
    await documents.addJobVideos(jobId, [videoId])
    await documents.markJobDiscovered(jobId)
    await documents.updateVideo(videoId, 'download', 'done')
    await documents.updateVideo(videoId, 'transcribe', 'running', {
      audio: { segmentCount: segments.length, seconds: speech.seconds, segmentsDone: [], secondsDone: 0 },
    })
    for (const segment of segments)
      await blobs.put(blobKeys.audioSegment(videoId, segment.index), await readFile(segment.file), 'audio/ogg')
  })
  afterEach(() => fn.close())

  const deliver = (index: number) => {
    const segment = segments[index]!
    return fn.deliver('audio.segment.ready', videoId, {
      jobId,
      videoId,
      index,
      count: segments.length,
      startSeconds: segment.start,
      durationSeconds: segment.end - segment.start,
      blobKey: blobKeys.audioSegment(videoId, index),
    })
  }
  const announced = () => fn.sink.events.filter((event) => event.name === 'transcript.ready')
  /**
   * The distinct transcript.ready events: a delivery that finds the transcript joined already
   * sends the recorded event again under its id (its first send may have been refused), which
   * downstream takes once; what must never happen is a second, different announcement.
   */
  const announcedOnce = () => {
    const ids = new Set(announced().map((event) => event.id))
    expect(new Set(announced().map((event) => JSON.stringify(event.data))).size).toBe(1)
    return [...ids]
  }

  it('cuts the fixture into at least three segments, none longer than configured', () => {
    expect(segments.length).toBeGreaterThanOrEqual(3)
    for (const segment of segments) expect(segment.end - segment.start).toBeLessThanOrEqual(SEGMENT_SECONDS)
  })

  it('makes every time absolute: the joined transcript says each sentence once, when it is spoken', async () => {
    for (let index = 0; index < segments.length; index++) expect((await deliver(index)).status).toBe(202)
    expect(announced()).toHaveLength(1)
    expect(announced()[0]!.data).toMatchObject({
      jobId,
      videoId,
      source: 'speech-to-text',
      language: 'en',
      model: 'whisper-1',
    })
    const transcript = (await transcriptBlob.read(fn.stores.blobs, blobKeys.transcript(videoId)))!
    expect(transcript.segments.map((segment) => segment.text)).toEqual(speech.timeline.map((sentence) => sentence.text))
    for (const [i, segment] of transcript.segments.entries()) {
      expect(Math.abs(segment.start - speech.timeline[i]!.start), segment.text).toBeLessThan(0.35)
    }
    const video = await fn.stores.documents.getVideo(videoId)
    expect(video?.transcript).toMatchObject({
      source: 'speech-to-text',
      language: 'en',
      model: 'whisper-1',
      segmentCount: speech.timeline.length,
    })
    expect(video?.stages.transcribe.status).toBe('done')
    const job = await fn.stores.documents.getJob(jobId)
    expect(job?.audioMinutes).toEqual({ queued: 0, done: Math.round(speech.seconds / 6) / 10 })
    // Every upload was real audio of a segment's length (the server decoded and measured it).
    expect(transcriber.heard.map((heard) => Math.round(heard.seconds))).toEqual(
      segments.map((s) => Math.round(s.end - s.start)),
    )
    const metrics = await (await fetch(new URL('/metrics', fn.url))).text()
    expect(Number(/ytrag_transcribed_seconds_total\{[^}]*\} ([\d.]+)/.exec(metrics)?.[1])).toBeCloseTo(
      speech.seconds,
      0,
    )
  })

  it('announces once when segments arrive out of order, at the same time, and twice over', async () => {
    const order = [...segments.keys()].reverse()
    const answers = await Promise.all([...order, ...order, order[0]!].map((index) => deliver(index)))
    expect(answers.map((answer) => answer.status).every((status) => status === 202)).toBe(true)
    expect(announcedOnce()).toEqual([`${videoId}/transcribe/0/transcript.ready`])
    // Copies delivered at the same moment may each reach the API (at-least-once costs that);
    // one that arrives after its segment's result is stored does not.
    expect(openai.audio.length).toBeGreaterThanOrEqual(segments.length)
    const before = openai.audio.length
    const late = await deliver(1)
    expect(late.status).toBe(202)
    expect(announcedOnce()).toHaveLength(1)
    expect(openai.audio.length).toBe(before)
  })

  it('retries a 429 after the Retry-After the API gives, then succeeds', async () => {
    openai.failNext('/v1/audio/transcriptions', { status: 429, headers: { 'retry-after': '1' } })
    const started = performance.now()
    expect((await deliver(0)).status).toBe(202)
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000)
    const attempts = openai.requests
      .filter((request) => request.path === '/v1/audio/transcriptions')
      .map((request) => request.status)
    expect(attempts).toEqual([429, 200])
    expect((await fn.stores.documents.getVideo(videoId))?.audio?.segmentsDone).toEqual([0])
  })

  it('fails the video with the reason on a permanent error, and transcribes nothing more', async () => {
    openai.failNext('/v1/audio/transcriptions', {
      status: 400,
      body: { error: { message: 'Invalid file format.', type: 'invalid_request_error' } },
    })
    expect((await deliver(1)).status).toBe(202)
    const video = await fn.stores.documents.getVideo(videoId)
    expect(video?.status).toBe('failed')
    expect(video?.error).toMatch(/^speech-to-text failed on segment 2 of \d+: .*Invalid file format/)
    expect(fn.sink.events.map((event) => [event.name, (event.data as { stage?: string }).stage])).toEqual([
      ['video.failed', 'transcribe'],
    ])
    expect((await deliver(0)).status).toBe(202)
    expect(openai.requests.filter((request) => request.path === '/v1/audio/transcriptions')).toHaveLength(1)
    expect((await fn.stores.documents.getJob(jobId))?.videos).toEqual({ total: 1, indexed: 0, failed: 1, skipped: 0 })
  })
})
