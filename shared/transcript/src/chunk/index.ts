import type { Segment } from '../captions/index.ts'

/** A passage to embed and cite: consecutive segments joined by spaces, numbered from 0. */
export type Chunk = { index: number; start: number; end: number; text: string }

export type ChunkOptions = {
  /** Every segment of a chunk starts at most this long after the chunk does, so a citation lands near what it quotes. */
  maxSpanSeconds?: number
  /** Longest chunk text; a longer segment is split at word boundaries. */
  maxChars?: number
}

type Passage = Omit<Chunk, 'index'>

const SENTENCE_END = /[.?!]["')\]]*$/

/**
 * Groups a transcript into chunks, closing one when the next segment would start more than
 * `maxSpanSeconds` after it or push its text past `maxChars`, or earlier at a sentence end once
 * it covers half the span.
 *
 * @example
 * ```ts
 * chunkTranscript([
 *   { start: 0, end: 12, text: 'Caching is hard.' },
 *   { start: 12, end: 15, text: 'Invalidation' },
 *   { start: 15, end: 30, text: 'is the hard part.' },
 * ])
 * // [{ index: 0, start: 0, end: 12, text: 'Caching is hard.' },
 * //  { index: 1, start: 12, end: 30, text: 'Invalidation is the hard part.' }]
 * ```
 */
export function chunkTranscript(segments: Segment[], options: ChunkOptions = {}): Chunk[] {
  const { maxSpanSeconds = 20, maxChars = 1000 } = options
  if (!(maxSpanSeconds > 0)) throw new RangeError(`maxSpanSeconds must be positive, got ${maxSpanSeconds}`)
  if (!(maxChars >= 1)) throw new RangeError(`maxChars must be at least 1, got ${maxChars}`)

  const passages: Passage[] = []
  let open: Passage | undefined
  const close = () => {
    if (open) passages.push(open)
    open = undefined
  }
  for (const segment of segments) {
    const text = segment.text.replace(/\s+/g, ' ').trim()
    if (text === '') continue
    if (text.length > maxChars) {
      close()
      passages.push(...splitSegment({ ...segment, text }, maxChars))
      continue
    }
    if (open) {
      const fits = segment.start - open.start <= maxSpanSeconds && open.text.length + 1 + text.length <= maxChars
      const atSentenceEnd = SENTENCE_END.test(open.text) && open.end - open.start >= maxSpanSeconds / 2
      // Breaking at a sentence end is only worth it if the segment would leave the chunk mid-sentence.
      if (!fits || (atSentenceEnd && !SENTENCE_END.test(text))) close()
    }
    open = open ? { start: open.start, end: segment.end, text: `${open.text} ${text}` } : { ...segment, text }
  }
  close()
  return passages.map((passage, index) => ({ index, ...passage }))
}

/** Times are interpolated by character position, as if the words were spoken at an even pace. */
function splitSegment(segment: Segment, maxChars: number): Passage[] {
  const pieces: { offset: number; text: string }[] = []
  for (const word of words(segment.text, maxChars)) {
    const last = pieces.at(-1)
    if (last && last.text.length + 1 + word.text.length <= maxChars) last.text += ` ${word.text}`
    else pieces.push({ offset: word.offset, text: word.text })
  }
  const timeAt = (offset: number) =>
    segment.start + ((segment.end - segment.start) * offset) / segment.text.length
  return pieces.map((piece, index) => {
    const next = pieces[index + 1]
    return { start: timeAt(piece.offset), end: next ? timeAt(next.offset) : segment.end, text: piece.text }
  })
}

/** Words with their offsets; a word longer than `maxChars` is cut into pieces that fit. */
function words(text: string, maxChars: number): { offset: number; text: string }[] {
  const found: { offset: number; text: string }[] = []
  for (const match of text.matchAll(/\S+/g)) {
    for (let cut = 0; cut < match[0].length; cut += maxChars) {
      found.push({ offset: match.index + cut, text: match[0].slice(cut, cut + maxChars) })
    }
  }
  return found
}
