// Speech-to-text end to end, as a user runs it: `npm start` with an OpenAI-compatible base URL,
// a fixture page whose video has no captions (espeak-ng speech), real yt-dlp and ffmpeg, and
// the test server transcribing each segment from what it hears.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HARBOUR_STORY, makeSpeechFixture, speechFixtureTranscriber, type SpeechFixture } from '@ytrag/media/testing'
import { startOpenAiTestServer, type OpenAiTestServer } from '@ytrag/providers/testing'
import { startFixtureServer, type FixtureServer } from '@ytrag/youtube/fixtures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServerProcess, type Hit, type ServerProcess } from './server-process.ts'

const SEGMENT_SECONDS = 50

describe('npm start: a video without captions, transcribed in segments', () => {
  let dir: string
  let speech: SpeechFixture
  let fixtures: FixtureServer
  let openai: OpenAiTestServer
  let transcriber: ReturnType<typeof speechFixtureTranscriber>
  let server: ServerProcess

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-e2e-speech-'))
    speech = await makeSpeechFixture(dir, [...HARBOUR_STORY])
    fixtures = await startFixtureServer({
      videos: [{ name: 'harbour', title: 'A day in the harbour', mediaFile: speech.file }],
    })
    transcriber = speechFixtureTranscriber(speech.timeline, { maxSeconds: SEGMENT_SECONDS })
    openai = await startOpenAiTestServer({ transcriptionScript: transcriber.script })
    server = await startServerProcess({
      YOUTUBE_RAG__STORAGE__DIR: join(dir, 'state'),
      YOUTUBE_RAG__INGEST__ALLOWED_HOSTS: fixtures.host,
      YOUTUBE_RAG__BROKER__BACKOFF_SCALE: '0.05',
      YOUTUBE_RAG__LOG__LEVEL: 'warn',
      YOUTUBE_RAG__RATE_LIMIT__REQUESTS: '10000',
      YOUTUBE_RAG__OPENAI__BASE_URL: openai.baseUrl,
      YOUTUBE_RAG__AUDIO__SEGMENT_SECONDS: String(SEGMENT_SECONDS),
      YOUTUBE_RAG__OPENAI__EMBEDDING_DIMENSIONS: '64',
      OPENAI_API_KEY: '',
    })
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
    await Promise.all([fixtures?.close(), openai?.close()])
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('ingests the video: every segment transcribed, joined, indexed, with the audio minutes shown', async () => {
    const started = performance.now()
    const job = await server.waitForJob(await server.ingest(fixtures.url('/harbour.html')))
    console.log(
      `${speech.seconds.toFixed(0)} s of speech ingested through speech-to-text in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    )
    expect(job.status, server.output().slice(-2000)).toBe('succeeded')
    expect(transcriber.heard.length).toBeGreaterThanOrEqual(3)
    const minutes = Math.round(speech.seconds / 6) / 10
    expect((job as unknown as { audioMinutes: unknown }).audioMinutes).toEqual({ queued: 0, done: minutes })
    const { body: video } = await server.call<{
      status: string
      transcript: Record<string, unknown>
      stages: Record<string, { status: string }>
    }>('GET', '/v1/videos/harbour-1')
    expect(video).toMatchObject({
      status: 'indexed',
      transcript: { source: 'speech-to-text', language: 'en', model: 'whisper-1' },
    })
    expect(video.stages).toMatchObject({
      download: { status: 'done' },
      transcribe: { status: 'done' },
      index: { status: 'done' },
    })
    // As long as waitForJob waits: on a loaded machine (CI beside other e2e files) the download,
    // the ffmpeg segmenting and the transcription calls took over 30 s.
  }, 120_000)

  it('finds a sentence from the last segment at its absolute time, and cites it in an answer', async () => {
    const last = speech.timeline.at(-1)!
    const lastSegmentStart = speech.seconds - transcriber.heard.at(-1)!.seconds
    expect(last.start).toBeGreaterThan(lastSegmentStart)
    const hits = (
      await server.call<{ hits: (Hit & { transcript: { source: string } })[] }>('POST', '/v1/search', {
        query: 'blessing of the boats',
      })
    ).body.hits
    // Among the best passages (fused with the test server's embeddings, which are not a real
    // model's, its rank among them is not the point), at the sentence's absolute time.
    const hit = hits.slice(0, 3).find((candidate) => candidate.text.includes('blessing of the boats'))
    expect(hit, JSON.stringify(hits.map((candidate) => candidate.text))).toBeDefined()
    expect(hit!.start).toBeLessThanOrEqual(last.start + 0.5)
    expect(hit!.start).toBeGreaterThanOrEqual(last.start - 20)
    expect(hit!.moment).toBeGreaterThanOrEqual(hit!.start)
    expect(hit!.moment).toBeLessThanOrEqual(last.start + 0.5)
    expect(hit!.transcript.source).toBe('speech-to-text')
    const { body } = await server.call<{ mode: string; answer: string; citations: (Hit & { n: number })[] }>(
      'POST',
      '/v1/ask',
      { question: 'When does the village gather on the quay for the blessing of the boats?' },
    )
    expect(body.mode).toBe('generative')
    const cited = body.citations.find((citation) => citation.text.includes('blessing of the boats'))
    expect(cited, JSON.stringify(body)).toBeDefined()
    expect(body.answer).toContain(`[${cited!.n}]`)
    expect(cited!.url).toBe(`${fixtures.url('/harbour.html')}#t=${Math.floor(cited!.moment)}`)
  })
})
