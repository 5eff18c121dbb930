/** A timed piece of transcript, in seconds from the start of the video. */
export interface TimedText {
  start: number
  end: number
  text: string
}

/** The transcription of one segment, its times already absolute. */
export interface SegmentTranscript {
  index: number
  segments: TimedText[]
}

const normalize = (word: string) => word.toLowerCase().replace(/[^\p{L}\p{N}']/gu, '')

/** How many words at the end of `before` the start of `after` repeats (the most that match, up to `max`). */
function repeatedWords(before: string[], after: string[], max: number): number {
  for (let k = Math.min(max, before.length, after.length); k > 0; k--) {
    let same = true
    for (let i = 0; i < k && same; i++)
      same = normalize(before[before.length - k + i]!) === normalize(after[i]!) && normalize(after[i]!) !== ''
    if (same) return k
  }
  return 0
}

/**
 * Joins the segments' transcriptions in index order into one transcript. Where two segments
 * overlap (a cut with no silence to fall in), the next one starts with words the previous one
 * ended with: those are dropped, so each word is kept once. Without an overlap nothing is dropped.
 *
 * @example
 * joinSegmentTranscripts([
 *   { index: 0, segments: [{ start: 0, end: 100, text: 'the quick brown fox' }] },
 *   { index: 1, segments: [{ start: 98, end: 120, text: 'brown fox jumps' }] },
 * ]) // [{ start: 0, end: 100, text: 'the quick brown fox' }, { start: 98, end: 120, text: 'jumps' }]
 */
export function joinSegmentTranscripts(parts: SegmentTranscript[], { maxRepeatedWords = 12 } = {}): TimedText[] {
  const joined: TimedText[] = []
  for (const part of [...parts].sort((a, b) => a.index - b.index)) {
    const incoming = part.segments
      .map((segment) => ({ ...segment, text: segment.text.trim() }))
      .filter((segment) => segment.text !== '')
    // Only an overlap can repeat words: after a cut in a silence, a repeated word was said twice.
    if (joined.length > 0 && incoming.length > 0 && incoming[0]!.start < joined.at(-1)!.end) {
      const tail = joined.slice(-3).flatMap((segment) => segment.text.split(/\s+/))
      const headSegments = incoming.slice(0, 3)
      const head = headSegments.flatMap((segment) => segment.text.split(/\s+/))
      let drop = repeatedWords(tail, head, maxRepeatedWords)
      while (drop > 0 && incoming.length > 0) {
        const words = incoming[0]!.text.split(/\s+/)
        if (words.length <= drop) {
          drop -= words.length
          incoming.shift()
        } else {
          incoming[0] = { ...incoming[0]!, text: words.slice(drop).join(' ') }
          drop = 0
        }
      }
    }
    joined.push(...incoming)
  }
  return joined
}
