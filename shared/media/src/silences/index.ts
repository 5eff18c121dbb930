import { runFfmpeg, type RunFfmpegOptions } from '../ffmpeg/index.ts'

/** A stretch of silence in the audio, in seconds from its start. */
export interface Silence {
  start: number
  end: number
}

export interface DetectSilencesOptions extends RunFfmpegOptions {
  /** Quieter than this counts as silence. Default -35 dB. */
  noiseDb?: number
  /** Shorter pauses are not silences. Default 0.3 s. */
  minSeconds?: number
}

/**
 * The silences ffmpeg's `silencedetect` reports in its log; one still open at the end of the
 * audio ends at `durationSeconds`.
 *
 * @example
 * parseSilences('[silencedetect @ 0x1] silence_start: 1.5\n[silencedetect @ 0x1] silence_end: 2.25 | silence_duration: 0.75')
 * // [{ start: 1.5, end: 2.25 }]
 */
export function parseSilences(log: string, durationSeconds = Number.POSITIVE_INFINITY): Silence[] {
  const silences: Silence[] = []
  let start: number | undefined
  for (const match of log.matchAll(/silence_(start|end): (-?[\d.]+)/g)) {
    const at = Math.max(0, Number(match[2]))
    if (match[1] === 'start') start = at
    else if (start !== undefined) {
      silences.push({ start, end: at })
      start = undefined
    }
  }
  if (start !== undefined && Number.isFinite(durationSeconds)) silences.push({ start, end: durationSeconds })
  return silences
}

/**
 * Finds the silences in an audio file with ffmpeg's `silencedetect` filter.
 *
 * @example
 * const silences = await detectSilences('/tmp/speech.wav', { ffmpeg })
 */
export async function detectSilences(
  file: string,
  { noiseDb = -35, minSeconds = 0.3, ...run }: DetectSilencesOptions = {},
): Promise<Silence[]> {
  const log = await runFfmpeg(
    ['-i', file, '-af', `silencedetect=noise=${noiseDb}dB:d=${minSeconds}`, '-f', 'null', '-'],
    run,
  )
  const duration = /Duration: (\d+):(\d+):([\d.]+)/.exec(log)
  const seconds = duration ? Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]) : undefined
  return parseSilences(log, seconds)
}
