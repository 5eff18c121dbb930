import { parseVttLines } from '../vtt/index.ts'

/** A spoken line: when it was first said, in seconds, and its words said once. */
export type Segment = { start: number; end: number; text: string }

/**
 * Words a line may share with the end of the line above it before they count as a repeat rather
 * than speech: a word or two ("no" / "no way") recur naturally in creator captions.
 */
const MIN_REPEATED_WORDS = 3

/**
 * Turns captions into a transcript where each spoken line appears once. YouTube's rolling
 * auto-captions show the previous line again above the new one (and add ~10 ms cues repeating
 * it alone); those repeats are dropped and every line keeps the times of the cue that introduced
 * it. Creator captions come through unchanged, less empty cues and exact consecutive repeats.
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
export function transcriptFromCaptions(vtt: string): Segment[] {
  const segments: Segment[] = []
  let shown: string[] = []
  for (const cue of parseVttLines(vtt)) {
    const spoken = newLines(shown, cue.lines)
    shown = cue.lines
    if (spoken.length > 0) segments.push({ start: cue.start, end: cue.end, text: spoken.join(' ') })
  }
  return segments
}

/**
 * Compared with what the previous cue showed rather than with what was emitted last: when a line
 * grows word by word, only the cue on screen holds the whole line the next cue repeats.
 */
function newLines(shown: string[], lines: string[]): string[] {
  const repeatedLines = lineOverlap(shown, lines)
  const fresh = lines.slice(repeatedLines)
  const lastShown = shown.at(-1)
  const first = fresh[0]
  // After whole repeated lines the next line is new speech, however its first words happen to read.
  if (repeatedLines > 0 || lastShown === undefined || first === undefined) return fresh
  const rest = withoutRepeatedWords(lastShown, first)
  return rest === '' ? fresh.slice(1) : [rest, ...fresh.slice(1)]
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
