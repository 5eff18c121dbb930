import type { TimedText } from '@ytrag/domain'
import { parseVttLines, type CueLines } from '../vtt/index.ts'

/**
 * Words a line may share with the end of the line above it before they count as a repeat rather
 * than speech: a word or two ("no" / "no way") recur naturally in creator captions.
 */
const MIN_REPEATED_WORDS = 3

/**
 * Inside lines with word times, a sentence end or a silence at least this long starts a new
 * segment: rolling auto-captions leave no gap between cues, so the words' own times are where
 * the pauses show. The silence after a word is the time to the next word's start less the time
 * the word takes to say, as the transcript's own word times have it (see `wordDurations`).
 */
export const MIN_PAUSE_SECONDS = 0.15
/** Word-to-word times needed to fit how a word's length adds to its duration. */
const MIN_FIT_SAMPLES = 20
const FALLBACK_SECONDS_PER_LETTER = 0.08
// Written with escapes (\u2026 …, \u201D ”, \u2019 ’): one character past ASCII makes V8 hold the
// whole bundled script as a two-byte string, which every start decodes, hashes and scans at twice the cost.
const SENTENCE_END = /[.?!\u2026]["'\u201D\u2019)\]]*$/u

/** A line as spoken: its words, and when each is said if the captions say so. */
type SpokenLine = { text: string; wordStarts?: number[] }

/**
 * A word of a line with word times: when it is said, whether its line said so (else the cue's
 * start stands in), and whether it is the first its cue adds.
 */
type TimedWord = { text: string; start: number; timed: boolean; opensCue: boolean }

/**
 * Turns captions into a transcript where each spoken line appears once. YouTube's rolling
 * auto-captions show the previous line again above the new one (and add ~10 ms cues repeating
 * it alone); those repeats are dropped and every line keeps the times of the cue that introduced
 * it. Where lines give each word's time, they are also cut where a sentence ends or the speaker
 * pauses, each part timed from its first word to when its last word is done being said, so the
 * silence between parts shows as a gap between segments. Creator captions come through
 * unchanged, less empty cues and exact consecutive repeats.
 *
 * @example
 * ```ts
 * transcriptFromCaptions(`WEBVTT
 *
 * 00:00:00.000 --> 00:00:02.350
 * so<00:00:00.320><c> today</c>
 *
 * 00:00:02.350 --> 00:00:05.120
 * so today
 * we<00:00:02.800><c> begin</c>`)
 * // [{ start: 0, end: 2.35, text: 'so today' }, { start: 2.35, end: 5.12, text: 'we begin' }]
 * ```
 */
export function transcriptFromCaptions(vtt: string): TimedText[] {
  let shown: string[] = []
  const cues: { cue: CueLines; spoken: SpokenLine[] }[] = []
  for (const cue of parseVttLines(vtt)) {
    const spoken = newLines(shown, cue)
    shown = cue.lines
    if (spoken.length > 0) cues.push({ cue, spoken })
  }
  // Consecutive cues with word times are one stream of words: a pause may fall between cues as well as inside one.
  const parts: ({ plain: TimedText } | { words: TimedWord[]; end: number })[] = []
  for (const { cue, spoken } of cues) {
    if (spoken.every((line) => line.wordStarts === undefined)) {
      parts.push({ plain: { start: cue.start, end: cue.end, text: spoken.map((line) => line.text).join(' ') } })
      continue
    }
    const words = spoken.flatMap((line, lineIndex) =>
      line.text.split(' ').map((text, index) => {
        const start = line.wordStarts?.[index]
        return { text, start: start ?? cue.start, timed: start !== undefined, opensCue: lineIndex + index === 0 }
      }),
    )
    const previous = parts.at(-1)
    if (previous && 'words' in previous) {
      previous.words.push(...words)
      previous.end = cue.end
    } else parts.push({ words, end: cue.end })
  }
  const duration = wordDurations(parts.flatMap((part) => ('words' in part ? [part.words] : [])))
  return parts.flatMap((part) => ('plain' in part ? [part.plain] : timedSegments(part.words, part.end, duration)))
}

const letters = (word: string) => (word.match(/[\p{L}\p{N}]/gu) ?? []).length

/**
 * How long a word takes to say, fitted to the transcript's own word times: the time from a
 * word's start to the next one's is its duration plus whatever silence follows, and speech
 * takes a little time per word and more per letter. The median line through those times (least
 * absolute deviations, so the pauses, few and long, do not pull it) gives the usual duration
 * for a word of each length; what a gap holds beyond it is silence. With too few word times to
 * fit a line, a word takes the median time from one word to the next, or for a long word
 * FALLBACK_SECONDS_PER_LETTER a letter.
 */
function wordDurations(streams: TimedWord[][]): (word: string) => number {
  const samples: { x: number; y: number }[] = []
  for (const words of streams) {
    words.slice(1).forEach((next, index) => {
      const word = words[index]!
      if (word.timed && next.timed && next.start > word.start)
        samples.push({ x: letters(word.text), y: next.start - word.start })
    })
  }
  const usual = median(samples.map((sample) => sample.y))
  if (samples.length < MIN_FIT_SAMPLES) return (word) => Math.max(usual, letters(word) * FALLBACK_SECONDS_PER_LETTER)
  let [intercept, slope] = leastAbsoluteLine(samples)
  // Saying a word takes time, and more for a longer one; a fit that says otherwise read noise.
  if (!(slope >= 0) || !(intercept >= 0)) [intercept, slope] = [usual, 0]
  return (word) => intercept + slope * letters(word)
}

/** The line y = a + b x with the least sum of absolute deviations, by iteratively reweighted least squares. */
function leastAbsoluteLine(samples: { x: number; y: number }[]): [number, number] {
  let weights = samples.map(() => 1)
  let line: [number, number] = [median(samples.map((sample) => sample.y)), 0]
  for (let round = 0; round < 30; round++) {
    let sw = 0
    let sx = 0
    let sy = 0
    let sxx = 0
    let sxy = 0
    samples.forEach(({ x, y }, index) => {
      const w = weights[index]!
      sw += w
      sx += w * x
      sy += w * y
      sxx += w * x * x
      sxy += w * x * y
    })
    const spread = sw * sxx - sx * sx
    const slope = spread > 1e-12 ? (sw * sxy - sx * sy) / spread : 0
    const next: [number, number] = [(sy - slope * sx) / sw, slope]
    const settled = Math.abs(next[0] - line[0]) < 1e-6 && Math.abs(next[1] - line[1]) < 1e-6
    line = next
    if (settled) break
    // A sample's weight is 1 / |residual|, floored so one lying on the line does not take all the weight.
    weights = samples.map(({ x, y }) => 1 / Math.max(1e-3, Math.abs(y - line[0] - line[1] * x)))
  }
  return line
}

const roundToMillis = (seconds: number) => Math.round(seconds * 1000) / 1000

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

/**
 * A stream of timed words cut where a cue starts, a sentence ends or the speaker pauses. Each part runs from its first word's
 * start to when its last word is said, at the usual duration for the word but not past the next
 * part's start; the stream's last part runs to its cue's end.
 */
function timedSegments(words: TimedWord[], streamEnd: number, duration: (word: string) => number): TimedText[] {
  const runs: { start: number; words: TimedWord[] }[] = []
  words.forEach((word, index) => {
    const previous = words[index - 1]
    const breaks =
      previous !== undefined &&
      (word.opensCue ||
        SENTENCE_END.test(previous.text) ||
        word.start - previous.start - duration(previous.text) >= MIN_PAUSE_SECONDS)
    if (runs.length === 0 || breaks) runs.push({ start: word.start, words: [] })
    runs.at(-1)!.words.push(word)
  })
  return runs.map((run, index) => {
    const next = runs[index + 1]
    const last = run.words.at(-1)!
    // Without a pause the part runs on to the next; after one it ends when its last word does.
    const spoken = last.start + duration(last.text)
    const end = next ? (next.start - spoken >= MIN_PAUSE_SECONDS ? roundToMillis(spoken) : next.start) : streamEnd
    return { start: run.start, end, text: run.words.map((word) => word.text).join(' ') }
  })
}

/**
 * Compared with what the previous cue showed rather than with what was emitted last: when a line
 * grows word by word, only the cue on screen holds the whole line the next cue repeats.
 */
function newLines(shown: string[], { lines, wordStarts }: CueLines): SpokenLine[] {
  const repeatedLines = lineOverlap(shown, lines)
  const fresh: SpokenLine[] = lines.slice(repeatedLines).map((text, index) => {
    const starts = wordStarts?.[repeatedLines + index]
    return starts ? { text, wordStarts: starts } : { text }
  })
  const lastShown = shown.at(-1)
  const first = fresh[0]
  // After whole repeated lines the next line is new speech, however its first words happen to read.
  if (repeatedLines > 0 || lastShown === undefined || first === undefined) return fresh
  const rest = withoutRepeatedWords(lastShown, first.text)
  if (rest === '') return fresh.slice(1)
  // The words kept are the line's last ones, and keep their times.
  const kept = rest.split(' ').length
  const restLine: SpokenLine = first.wordStarts
    ? { text: rest, wordStarts: first.wordStarts.slice(-kept) }
    : { text: rest }
  return [restLine, ...fresh.slice(1)]
}

/** How many leading lines of `lines` repeat the trailing lines of `shown`. */
function lineOverlap(shown: string[], lines: string[]): number {
  for (let count = Math.min(shown.length, lines.length); count > 0; count--) {
    const tail = shown.slice(-count)
    if (tail.every((line, index) => line === lines[index])) return count
  }
  return 0
}

/**
 * Strips the words `line` starts with that end `previous`: all of `previous` (the line grew),
 * or a long enough run of its last words (the caption window slid along).
 */
function withoutRepeatedWords(previous: string, line: string): string {
  const before = previous.split(' ')
  const words = line.split(' ')
  for (let count = Math.min(before.length, words.length); count > 0; count--) {
    if (count < before.length && count < MIN_REPEATED_WORDS) break
    const tail = before.slice(-count)
    if (tail.every((word, index) => word === words[index])) return words.slice(count).join(' ')
  }
  return line
}
