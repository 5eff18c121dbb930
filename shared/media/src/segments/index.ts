import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { runFfmpeg, type RunFfmpegOptions } from '../ffmpeg/index.ts'
import type { Silence } from '../silences/index.ts'

/** One piece of the audio to transcribe on its own, in seconds of the whole. */
export interface SegmentPlan {
  index: number
  start: number
  end: number
}

export interface PlanSegmentsOptions {
  /** A segment is at most this long. */
  maxSeconds: number
  /** How far before a segment's longest end a silence is looked for. Default 10 % of maxSeconds, at most 60 s. */
  searchSeconds?: number
  /** Where no silence is found, the next segment starts this much earlier, so a word cut in two is heard whole once. Default 2 s. */
  overlapSeconds?: number
}

/**
 * Cuts `durationSeconds` of audio into segments of at most `maxSeconds`, ending each in the
 * middle of the latest silence in the search window before its limit; with no silence there,
 * at the limit, with the next segment overlapping it by `overlapSeconds`.
 *
 * @example
 * planSegments(250, [{ start: 95, end: 97 }], { maxSeconds: 100 })
 * // [{ index: 0, start: 0, end: 96 }, { index: 1, start: 96, end: 196 }, { index: 2, start: 194, end: 250 }]
 */
export function planSegments(
  durationSeconds: number,
  silences: Silence[],
  options: PlanSegmentsOptions,
): SegmentPlan[] {
  const { maxSeconds } = options
  if (!(maxSeconds > 0)) throw new RangeError(`maxSeconds must be positive, got ${maxSeconds}`)
  const searchSeconds = options.searchSeconds ?? Math.min(60, maxSeconds / 10)
  const overlapSeconds = Math.min(options.overlapSeconds ?? 2, maxSeconds / 4)
  const segments: SegmentPlan[] = []
  let start = 0
  while (durationSeconds - start > 1e-6) {
    const limit = start + maxSeconds
    if (limit >= durationSeconds) {
      segments.push({ index: segments.length, start, end: durationSeconds })
      break
    }
    // The latest silence whose middle falls in (limit - search, limit].
    const middles = silences
      .map((silence) => (silence.start + silence.end) / 2)
      .filter((middle) => middle > Math.max(start, limit - searchSeconds) && middle <= limit)
    const cut = middles.length ? Math.max(...middles) : undefined
    const end = cut ?? limit
    segments.push({ index: segments.length, start, end })
    start = cut ?? end - overlapSeconds
  }
  return segments.map((segment) => ({ ...segment, start: round(segment.start), end: round(segment.end) }))
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000

export interface EncodedSegment extends SegmentPlan {
  file: string
  bytes: number
}

export interface EncodeSegmentsOptions extends RunFfmpegOptions {
  /** Opus bitrate; speech stays intelligible far below music's. Default '24k' (≈ 3.5 MB for 20 minutes). */
  bitrate?: string
  /** A segment file larger than this is an error (the transcription API takes 25 MB). Default 24 000 000. */
  maxBytes?: number
}

/**
 * Encodes each planned segment of `source` as 16 kHz mono Opus in Ogg (`segment-<n>.ogg` in `dir`).
 *
 * @example
 * const files = await encodeSegments('/tmp/speech.wav', plan, '/tmp/segments', { ffmpeg })
 */
export async function encodeSegments(
  source: string,
  plan: SegmentPlan[],
  dir: string,
  options: EncodeSegmentsOptions = {},
): Promise<EncodedSegment[]> {
  const { bitrate = '24k', maxBytes = 24_000_000, ...run } = options
  await mkdir(dir, { recursive: true })
  const encoded: EncodedSegment[] = []
  for (const segment of plan) {
    const file = join(dir, `segment-${segment.index}.ogg`)
    await runFfmpeg(
      [
        '-ss',
        String(segment.start),
        '-t',
        String(segment.end - segment.start),
        '-i',
        source,
        '-vn',
        '-ac',
        '1',
        '-ar',
        '16000',
        '-c:a',
        'libopus',
        '-b:a',
        bitrate,
        '-application',
        'voip',
        file,
      ],
      run,
    )
    const { size } = await stat(file)
    if (size > maxBytes)
      throw new RangeError(
        `segment ${segment.index} is ${size} bytes, over the ${maxBytes} the transcription API takes; lower the segment length`,
      )
    encoded.push({ ...segment, file, bytes: size })
  }
  return encoded
}

/**
 * Converts any media file to 16 kHz mono 16-bit WAV, what silence detection and cutting read,
 * and gives its exact length from the sample count.
 *
 * @example
 * const { seconds } = await toSpeechWav('/tmp/video.webm', '/tmp/speech.wav', { ffmpeg })
 */
export async function toSpeechWav(
  input: string,
  output: string,
  run: RunFfmpegOptions = {},
): Promise<{ file: string; seconds: number }> {
  await runFfmpeg(['-i', input, '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', '-f', 'wav', output], run)
  const bytes = await readFile(output)
  const dataAt = bytes.indexOf('data')
  if (dataAt < 0) throw new Error(`${output} is not a WAV file ffmpeg wrote`)
  return { file: output, seconds: (bytes.length - dataAt - 8) / 32_000 }
}
