// The speech path's media steps on real audio: espeak-ng speech, ffmpeg conversion, silence
// detection, cutting and Opus encoding, and recognising each piece from its sound alone.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import { encodeSegments, planSegments, toSpeechWav } from '../segments/index.ts'
import { detectSilences } from '../silences/index.ts'
import { HARBOUR_STORY, hearFixtureAudio, makeSpeechFixture, type SpeechFixture } from './index.ts'

describe('speech fixture, cut into segments and heard back', () => {
  let dir: string
  let speech: SpeechFixture
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ytrag-media-'))
    speech = await makeSpeechFixture(dir, HARBOUR_STORY.slice(0, 10))
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('speaks every sentence once, in order, with a pause before each', () => {
    expect(speech.timeline).toHaveLength(10)
    for (let i = 1; i < speech.timeline.length; i++)
      expect(speech.timeline[i]!.start - speech.timeline[i - 1]!.end).toBeCloseTo(1.2, 1)
    expect(speech.seconds).toBeGreaterThan(30)
  })

  it('converts to 16 kHz mono WAV of the right length, and finds the pauses between sentences', async () => {
    const wav = await toSpeechWav(speech.file, join(dir, 'speech.wav'))
    expect(wav.seconds).toBeCloseTo(speech.seconds, 0)
    const silences = await detectSilences(wav.file, { minSeconds: 0.6 })
    for (const sentence of speech.timeline.slice(1)) {
      expect(
        silences.some((silence) => Math.abs(silence.end - sentence.start) < 0.3),
        `pause before "${sentence.text}"`,
      ).toBe(true)
    }
  })

  it('cuts at pauses into Opus segments, each recognised as the stretch of the fixture it holds', async () => {
    const wav = await toSpeechWav(speech.file, join(dir, 'cut.wav'))
    const plan = planSegments(wav.seconds, await detectSilences(wav.file), { maxSeconds: 20, searchSeconds: 6 })
    expect(plan.length).toBeGreaterThanOrEqual(3)
    const encoded = await encodeSegments(wav.file, plan, join(dir, 'segments'))
    const heardTexts: string[] = []
    for (const segment of encoded) {
      expect(segment.end - segment.start).toBeLessThanOrEqual(20)
      expect(segment.bytes).toBeLessThan(100_000) // Opus at 24 kb/s: 20 s is about 60 kB
      const heard = await hearFixtureAudio(await readFile(segment.file), speech.timeline)
      expect(heard.seconds).toBeCloseTo(segment.end - segment.start, 0)
      expect(heard.offset).toBeCloseTo(segment.start, 0)
      heardTexts.push(...heard.segments.map((s) => s.text))
    }
    // A cut in a pause splits no sentence: each is heard exactly once.
    expect(heardTexts).toEqual(speech.timeline.map((sentence) => sentence.text))
  }, 60_000)
})
