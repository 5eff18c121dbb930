import type { TimedText } from '@ytrag/domain'
import { parseVttLines, type CueLines } from '../vtt/index.ts'

/**
 * Words a line may share with the end of the line above it before they count as a repeat rather
 * than speech: a word or two ("no" / "no way") recur naturally in creator captions.
 */
const MIN_REPEATED_WORDS = 3

/**
 * Inside a line with word times, a sentence end or a silence at least this long starts a new
 * segment: rolling auto-captions leave no gap between cues, so the words' own times are where
 * the pauses show. The silence is what is left of the time to the next word after the time a
 * word usually takes (the transcript's median from one word to the next) or, for a long word,
 * SECONDS_PER_CHAR a character.
 */
const MIN_PAUSE_SECONDS = 0.25
const SECONDS_PER_CHAR = 0.08
const SENTENCE_END = /[.?!…]["'”’)\]]*$/u

/** A line as spoken: its words, and when each is said if the captions say so. */
type SpokenLine = { text: string; wordStarts?: number[] }

/**
 * Turns captions into a transcript where each spoken line appears once. YouTube's rolling
 * auto-captions show the previous line again above the new one (and add ~10 ms cues repeating
 * it alone); those repeats are dropped and every line keeps the times of the cue that introduced
 * it. Where a line gives each word's time, it is also cut where a sentence ends or the speaker
 * pauses inside it, each part timed by its first word. Creator captions come through unchanged,
 * less empty cues and exact consecutive repeats.
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
  const segments: TimedText[] = []
  let shown: string[] = []
  const cues: { cue: CueLines; spoken: SpokenLine[] }[] = []
  for (const cue of parseVttLines(vtt)) {
    const spoken = newLines(shown, cue)
    shown = cue.lines
    if (spoken.length > 0) cues.push({ cue, spoken })
  }
  const wordSeconds = typicalWordSeconds(cues.flatMap(({ spoken }) => spoken))
  for (const { cue, spoken } of cues) {
    if (spoken.every((line) => line.wordStarts === undefined))
      segments.push({ start: cue.start, end: cue.end, text: spoken.map((line) => line.text).join(' ') })
    else segments.push(...timedSegments(spoken, cue, wordSeconds))
  }
  return segments
}

/** The median time from one word's start to the next's, inside lines with word times. */
function typicalWordSeconds(lines: SpokenLine[]): number {
  const steps = lines
    .flatMap((line) => (line.wordStarts ?? []).slice(1).map((start, index) => start - line.wordStarts![index]!))
    .sort((a, b) => a - b)
  return steps.length ? steps[Math.floor(steps.length / 2)]! : 0
}

/** A cue's new words cut at sentence ends and pauses; words of a line without times count as said at the cue's start. */
function timedSegments(spoken: SpokenLine[], cue: CueLines, wordSeconds: number): TimedText[] {
  const words = spoken.flatMap((line) =>
    line.text.split(' ').map((text, index) => ({ text, start: line.wordStarts?.[index] ?? cue.start })),
  )
  const runs: { start: number; words: string[] }[] = []
  words.forEach((word, index) => {
    const previous = words[index - 1]
    const breaks =
      previous !== undefined &&
      (SENTENCE_END.test(previous.text) ||
        word.start - previous.start - Math.max(wordSeconds, previous.text.length * SECONDS_PER_CHAR) >=
          MIN_PAUSE_SECONDS)
    if (runs.length === 0 || breaks) runs.push({ start: word.start, words: [] })
    runs.at(-1)!.words.push(word.text)
  })
  return runs.map((run, index) => ({
    start: run.start,
    end: runs[index + 1]?.start ?? cue.end,
    text: run.words.join(' '),
  }))
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
