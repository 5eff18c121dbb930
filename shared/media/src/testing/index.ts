// Speech fixtures for the speech-to-text path, made on the spot with espeak-ng and ffmpeg (no
// binary in the repo), and the other half a test server needs: telling, from the audio alone,
// which stretch of the fixture a segment holds.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ffmpegPath, runFfmpeg } from '../ffmpeg/index.ts'
import type { TimedText } from '../join/index.ts'
import { toSpeechWav } from '../segments/index.ts'
import { detectSilences } from '../silences/index.ts'

const run = promisify(execFile)
const SAMPLE_RATE = 16_000

export interface SpeechFixture {
  /** An audio-only MP4 of every sentence, spoken one after another with a pause between. */
  file: string
  /** When each sentence is spoken, in seconds from the start of the file. */
  timeline: TimedText[]
  seconds: number
}

/**
 * Speaks `sentences` with espeak-ng into `dir/speech.mp4`, `gapSeconds` of silence before each.
 * Sentences without commas keep each one a single stretch of sound.
 *
 * @example
 * const speech = await makeSpeechFixture(dir, ['The harbour opens at dawn.', 'Gulls follow the boats.'])
 * speech.timeline[1] // { start: 4.31, end: 6.02, text: 'Gulls follow the boats.' }
 */
export async function makeSpeechFixture(
  dir: string,
  sentences: string[],
  { gapSeconds = 1.2, ffmpeg = ffmpegPath() } = {},
): Promise<SpeechFixture> {
  const pcm: Buffer[] = []
  const timeline: TimedText[] = []
  let samples = 0
  const silence = (seconds: number) => Buffer.alloc(Math.round(seconds * SAMPLE_RATE) * 2)
  for (const [index, text] of sentences.entries()) {
    const spoken = join(dir, `sentence-${index}.wav`)
    await run('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', spoken, text])
    const raw = join(dir, `sentence-${index}.raw`)
    await runFfmpeg(['-i', spoken, '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', '-c:a', 'pcm_s16le', raw], {
      ffmpeg,
    })
    const body = await readFile(raw)
    const gap = silence(gapSeconds)
    pcm.push(gap, body)
    const start = (samples + gap.length / 2) / SAMPLE_RATE
    samples += (gap.length + body.length) / 2
    timeline.push({ start: round(start), end: round(samples / SAMPLE_RATE), text })
  }
  pcm.push(silence(gapSeconds))
  samples += Math.round(gapSeconds * SAMPLE_RATE)
  const rawAll = join(dir, 'speech.raw')
  await writeFile(rawAll, Buffer.concat(pcm))
  const file = join(dir, 'speech.mp4')
  await runFfmpeg(
    [
      '-f',
      's16le',
      '-ar',
      String(SAMPLE_RATE),
      '-ac',
      '1',
      '-i',
      rawAll,
      '-c:a',
      'aac',
      '-b:a',
      '64k',
      '-movflags',
      '+faststart',
      file,
    ],
    { ffmpeg },
  )
  return { file, timeline, seconds: round(samples / SAMPLE_RATE) }
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000

export interface HeardSegment {
  /** The decoded audio's length. */
  seconds: number
  /** Where in the fixture the audio starts, found by lining its pauses up with the timeline's. */
  offset: number
  /** The fixture's sentences heard in it, with times relative to the audio's start. */
  segments: TimedText[]
}

/**
 * Decodes an uploaded piece of audio with ffmpeg (so it must be real audio), finds its stretches
 * of sound, and lines them up with the fixture's timeline to tell which part of the fixture it
 * is: what a transcription test server answers with, keyed by the audio itself.
 *
 * @example
 * const heard = await hearFixtureAudio(upload.bytes, speech.timeline)
 * heard.segments // [{ start: 0.6, end: 3.1, text: 'Gulls follow the boats.' }, …]
 */
export async function hearFixtureAudio(
  bytes: Uint8Array,
  timeline: TimedText[],
  { ffmpeg = ffmpegPath() } = {},
): Promise<HeardSegment> {
  const dir = await mkdtemp(join(tmpdir(), 'ytrag-heard-'))
  try {
    const upload = join(dir, 'upload')
    await writeFile(upload, bytes)
    const { file, seconds } = await toSpeechWav(upload, join(dir, 'heard.wav'), { ffmpeg })
    // Only the pauses between sentences, not those between words.
    const silences = await detectSilences(file, { ffmpeg, minSeconds: 0.6 })
    const sounds: { start: number; end: number }[] = []
    let at = 0
    for (const silence of silences) {
      if (silence.start - at > 0.2) sounds.push({ start: at, end: silence.start })
      at = silence.end
    }
    if (seconds - at > 0.2) sounds.push({ start: at, end: seconds })
    if (sounds.length === 0) return { seconds, offset: 0, segments: [] }

    // Every pairing of a sound with a sentence proposes an offset; the one most sounds agree with wins.
    let best = { offset: 0, votes: -1 }
    for (const sound of sounds) {
      for (const sentence of timeline) {
        const offset = sentence.start - sound.start
        const votes = sounds.filter((other) =>
          timeline.some((s) => Math.abs(s.start - offset - other.start) < 0.25),
        ).length
        if (votes > best.votes) best = { offset, votes }
      }
    }
    const { offset } = best
    const segments = timeline
      .filter(
        (sentence) =>
          (sentence.start + sentence.end) / 2 - offset >= 0 && (sentence.start + sentence.end) / 2 - offset <= seconds,
      )
      .map((sentence) => ({
        start: round(Math.max(0, sentence.start - offset)),
        end: round(Math.min(seconds, sentence.end - offset)),
        text: sentence.text,
      }))
    return { seconds, offset: round(offset), segments }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export { HARBOUR_STORY } from './sentences.ts'

/** What a transcription test server needs of an upload: its bytes and the length its header claims. */
export interface UploadedAudio {
  bytes: Uint8Array
  durationSeconds?: number
}

/**
 * A transcription script for the OpenAI-compatible test server that answers each upload with
 * the fixture sentences its sound matches. It refuses (400) audio that does not decode, whose
 * header disagrees with its decoded length, or that is longer than `maxSeconds`. `heard` keeps
 * what each upload was recognised as, for assertions.
 *
 * @example
 * const transcriber = speechFixtureTranscriber(speech.timeline, { maxSeconds: 60 })
 * const openai = await startOpenAiTestServer({ transcriptionScript: transcriber.script })
 */
export function speechFixtureTranscriber(
  timeline: TimedText[],
  { maxSeconds = Number.POSITIVE_INFINITY, delayMsPerAudioSecond = 0 } = {},
) {
  const heard: HeardSegment[] = []
  const refuse = (message: string) => ({
    status: 400,
    body: { error: { message, type: 'invalid_request_error', param: 'file', code: null } },
  })
  return {
    heard,
    async script(audio: UploadedAudio) {
      let result: HeardSegment
      try {
        result = await hearFixtureAudio(audio.bytes, timeline)
      } catch (error) {
        return refuse(`the upload is not audio: ${(error as Error).message}`)
      }
      if (audio.durationSeconds !== undefined && Math.abs(audio.durationSeconds - result.seconds) > 0.5) {
        return refuse(`the file says ${audio.durationSeconds} s but holds ${result.seconds} s of audio`)
      }
      if (result.seconds > maxSeconds + 0.5)
        return refuse(`${result.seconds} s of audio is longer than a segment may be (${maxSeconds} s)`)
      heard.push(result)
      // Whisper takes time in proportion to the audio: a benchmark can see parallelism pay.
      if (delayMsPerAudioSecond > 0)
        await new Promise((done) => setTimeout(done, result.seconds * delayMsPerAudioSecond))
      return { language: 'english', duration: result.seconds, segments: result.segments }
    },
  }
}
