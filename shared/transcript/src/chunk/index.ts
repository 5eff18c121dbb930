import type { TimedText } from '@ytrag/domain'
import { MIN_PAUSE_SECONDS } from '../captions/index.ts'

/**
 * Where a sentence (or, in an unpunctuated transcript, a group of cues between pauses) starts in
 * a chunk: its character offset in the chunk's text and its time in seconds. A hit's `moment`.
 */
export type ChunkSentence = { offset: number; start: number }

/**
 * A passage to embed and cite: whole sentences (or cue groups) joined by spaces, numbered from 0,
 * with where each of them starts.
 */
export type Chunk = TimedText & { index: number; sentences: ChunkSentence[] }

export type ChunkOptions = {
  /** Every cue of a chunk starts at most this long after the chunk does, so a citation lands near what it quotes. Default 20. */
  maxSpanSeconds?: number
  /** Longest chunk text; a longer segment is split at word boundaries. Default 1000. */
  maxChars?: number
  /**
   * Silence between cues, in seconds, that ends a cue group in a transcript without punctuation
   * (where there are no sentences to go by). Default 0.6.
   */
  pauseSeconds?: number
  /**
   * How many sentences (or cue groups) at the end of a chunk the next one starts with again, so
   * a passage keeps the sentence its subject was named in. Default 1; 0 for no overlap.
   */
  overlapSentences?: number
  /** The transcript's language (BCP 47), for where sentences end. Default `en`. */
  language?: string
}

/**
 * The sentences of a text with their offsets, by Unicode's sentence rules (Intl.Segmenter), trimmed.
 *
 * @example
 * ```ts
 * splitSentences('It had two wheels. No pedals!') // [{ offset: 0, text: 'It had two wheels.' }, { offset: 19, text: 'No pedals!' }]
 * ```
 */
export function splitSentences(
  text: string,
  segmenter: Intl.Segmenter = sentenceSegmenter('en'),
): { offset: number; text: string }[] {
  const found: { offset: number; text: string }[] = []
  for (const { index, segment } of segmenter.segment(text)) {
    const trimmed = segment.trim()
    if (trimmed !== '') found.push({ offset: index + segment.length - segment.trimStart().length, text: trimmed })
  }
  return found
}

/** A sentence segmenter for a language; an unknown or malformed tag falls back to the default rules. */
export function sentenceSegmenter(language: string): Intl.Segmenter {
  try {
    return new Intl.Segmenter(language, { granularity: 'sentence' })
  } catch {
    return new Intl.Segmenter('en', { granularity: 'sentence' })
  }
}

/** A stretch of one segment that is one sentence or the part of one the segment holds. */
type Piece = TimedText & { endsSentence: boolean }

/** A sentence, or a group of cues between pauses: what a chunk is made of and never cuts. */
type Unit = {
  start: number
  end: number
  text: string
  /** When its last cue starts: what `maxSpanSeconds` is measured to. */
  lastCueStart: number
  /** When its words are likely said, at the transcript's pace: a pause after it runs from here to the next unit. */
  spokenEnd: number
  /** Whether it begins a sentence, or follows a pause: only such a unit may open a chunk as overlap. */
  startsThought: boolean
  /** Whether it opens with a word that continues a sentence ("which can take hours"): no chunk should start with it. */
  continues: boolean
  /** Whether it ends with a short clause that leads on to the rest of its sentence ("when it is bubbly"): no chunk should end with it. */
  leadsOn: boolean
}

/**
 * Words that continue a sentence and do not open one ("…until it has grown by half, which can
 * take four hours"), by language (BCP 47 primary subtag). In a transcript without punctuation a
 * cue group opening with one is the rest of the sentence before, however long the speaker paused
 * before it (a comma's pause can be as long as a full stop's), so no chunk is cut there when
 * another pause will do. Only words that hardly ever open a spoken sentence: "and", "so" or
 * "this" often do.
 */
const CONTINUING_WORDS: Record<string, ReadonlySet<string>> = {
  en: new Set(['which', 'whom', 'whose', 'whereas', 'nor', 'than']),
}

/**
 * Words that open a clause leading on to its sentence's main clause ("when it is bubbly and
 * smells sour, it is ready"; "to make one, mix flour and water"), by language. A short stretch
 * of speech between pauses opening with one is followed by the rest of its sentence, so no
 * chunk is cut after it when another pause will do.
 */
const LEADING_WORDS: Record<string, ReadonlySet<string>> = {
  en: new Set(['if', 'when', 'whenever', 'once', 'because', 'although', 'though', 'unless', 'while', 'to']),
}

/** The most words a stretch between pauses may have to count as a leading clause: a longer one likely holds its main clause too. */
const MAX_LEADING_WORDS = 10

/** Whether `text` opens with a word of `list`. */
const opensWithWordOf = (text: string, list: ReadonlySet<string> | undefined): boolean =>
  list?.has(/^[\p{L}\p{M}']+/u.exec(text)?.[0].toLowerCase() ?? '') ?? false

// Written with escapes (\u2026 …, \u201D ”, \u2019 ’, \u3002 。, \uFF1F ？, \uFF01 ！): one character past ASCII makes V8 hold the
// whole bundled script as a two-byte string, which every start decodes, hashes and scans at twice the cost.
const SENTENCE_END = /[.?!\u2026\u3002\uFF1F\uFF01]["'\u201D\u2019)\]]*$/u

/**
 * A transcript counts as punctuated when sentence ends come at least this often, in words: Whisper
 * and creator captions punctuate, YouTube's older auto-captions do not at all.
 */
const MAX_WORDS_PER_SENTENCE = 60

/**
 * Where a sentence starts inside a cue is estimated by its character position; speech is not
 * evenly paced, so the estimate is moved this much earlier: a link that starts a little early
 * costs a second, one that starts late misses the words.
 */
const INTERPOLATION_LEAD_SECONDS = 1

/**
 * Groups a transcript into chunks of whole sentences: a chunk ends at a sentence end where the
 * transcript is punctuated, and at a pause between cues where it is not. A chunk closes when
 * the next sentence would start more than `maxSpanSeconds` after it or push its text past
 * `maxChars`; past half the span it closes at the longest pause. The next chunk starts again
 * with the last `overlapSentences` sentences, so a passage does not lose its subject. A sentence
 * too long for a chunk of its own is cut at pauses between its cues (a cue longer than
 * `maxChars` at words).
 *
 * @example
 * ```ts
 * chunkTranscript([
 *   { start: 0, end: 4, text: 'Caching is hard. Invalidation' },
 *   { start: 4, end: 9, text: 'is the hard part.' },
 * ])
 * // [{ index: 0, start: 0, end: 9, text: 'Caching is hard. Invalidation is the hard part.',
 * //    sentences: [{ offset: 0, start: 0 }, { offset: 17, start: 1.34… }] }]
 * // ("Invalidation" is estimated at 2.34 s, a second of lead taken off)
 * ```
 */
export function chunkTranscript(segments: TimedText[], options: ChunkOptions = {}): Chunk[] {
  const { maxSpanSeconds = 20, maxChars = 1000, pauseSeconds = 0.6, overlapSentences = 1, language = 'en' } = options
  if (!(maxSpanSeconds > 0)) throw new RangeError(`maxSpanSeconds must be positive, got ${maxSpanSeconds}`)
  if (!(maxChars >= 1)) throw new RangeError(`maxChars must be at least 1, got ${maxChars}`)
  if (!(pauseSeconds >= 0)) throw new RangeError(`pauseSeconds must be 0 or more, got ${pauseSeconds}`)
  if (!(Number.isInteger(overlapSentences) && overlapSentences >= 0)) {
    throw new RangeError(`overlapSentences must be a whole number, 0 or more, got ${overlapSentences}`)
  }

  const cues = segments
    .map((segment) => ({ start: segment.start, end: segment.end, text: segment.text.replace(/\s+/g, ' ').trim() }))
    .filter((segment) => segment.text !== '')
    .flatMap((segment) => (segment.text.length > maxChars ? splitSegment(segment, maxChars) : [segment]))
  if (cues.length === 0) return []
  const pace = secondsPerChar(cues)
  const pieces = sentencePieces(cues, { language, pace })
  const words = cues.reduce((count, cue) => count + cue.text.split(' ').length, 0)
  const sentenceEnds = pieces.filter((piece) => piece.endsSentence).length
  const punctuated = sentenceEnds > 0 && words / sentenceEnds <= MAX_WORDS_PER_SENTENCE
  const primary = language.toLowerCase().split(/[-_]/)[0] ?? ''
  const limits = {
    maxSpanSeconds,
    maxChars,
    pauseSeconds,
    pace,
    continuing: CONTINUING_WORDS[primary],
    leading: LEADING_WORDS[primary],
  }
  const units = punctuated ? sentences(pieces, limits) : cueGroups(pieces, limits)
  return pack(units, { maxSpanSeconds, maxChars, overlapSentences })
}

type Limits = {
  maxSpanSeconds: number
  maxChars: number
  pauseSeconds: number
  pace: number
  continuing: ReadonlySet<string> | undefined
  leading: ReadonlySet<string> | undefined
}

/** The median speaking pace, seconds per character: how long a cue's words take, apart from a pause after them. */
function secondsPerChar(cues: TimedText[]): number {
  const paces = cues
    .filter((cue) => cue.text.length >= 10 && cue.end > cue.start)
    .map((cue) => (cue.end - cue.start) / cue.text.length)
    .sort((a, b) => a - b)
  return paces.length ? paces[Math.floor(paces.length / 2)]! : Number.POSITIVE_INFINITY
}

/**
 * When a piece's words end: the silence before the next piece is the gap between their times, plus the part of the
 * piece's own time its words do not need at the usual pace (rolling auto-captions leave no gap
 * between cues; a cue shown longer than its words take holds the pause).
 */
const spokenEnd = (piece: Piece, pace: number) => Math.min(piece.end, piece.start + piece.text.length * pace)

/**
 * Cues cut where a sentence ends inside them (Intl.Segmenter's sentence rules). A part's start is
 * estimated from its character offset at the transcript's pace, or spread over the cue's time
 * if that is sooner (a cue shown longer than its words take holds a pause, usually at its end).
 */
function sentencePieces(cues: TimedText[], { language, pace }: { language: string; pace: number }): Piece[] {
  const segmenter = sentenceSegmenter(language)
  const pieces: Piece[] = []
  for (const cue of cues) {
    const parts = splitSentences(cue.text, segmenter)
    const chars = cue.text.length
    parts.forEach((part, index) => {
      const at = (offset: number) => cue.start + Math.min(((cue.end - cue.start) * offset) / chars, offset * pace)
      const start = index === 0 ? cue.start : Math.max(cue.start, at(part.offset) - INTERPOLATION_LEAD_SECONDS)
      const next = parts[index + 1]
      const end = next ? Math.max(start, at(next.offset)) : cue.end
      pieces.push({ start, end, text: part.text, endsSentence: SENTENCE_END.test(part.text) })
    })
  }
  return pieces
}

function join(pieces: Piece[], pace: number, { startsThought = true, continues = false, leadsOn = false } = {}): Unit {
  const last = pieces.at(-1)!
  return {
    start: pieces[0]!.start,
    end: last.end,
    text: pieces.map((piece) => piece.text).join(' '),
    lastCueStart: last.start,
    spokenEnd: spokenEnd(last, pace),
    startsThought: startsThought && !continues,
    continues,
    leadsOn,
  }
}

/** Pieces up to each sentence end; a sentence too long for a chunk is cut into cue groups. */
function sentences(pieces: Piece[], limits: Limits): Unit[] {
  const units: Unit[] = []
  let open: Piece[] = []
  const close = () => {
    if (open.length === 0) return
    const sentence = join(open, limits.pace)
    const fits =
      sentence.lastCueStart - sentence.start <= limits.maxSpanSeconds && sentence.text.length <= limits.maxChars
    units.push(...(fits ? [sentence] : cueGroups(open, limits)))
    open = []
  }
  for (const piece of pieces) {
    open.push(piece)
    if (piece.endsSentence) close()
  }
  close()
  return units
}

/**
 * Pieces grouped between pauses of at least `pauseSeconds`. A group grown past a quarter of a
 * chunk's span is cut at its longest pause instead: without punctuation the pauses are the
 * only sign of where a thought ends, with the words that continue a sentence or lead on to
 * its main clause (`CONTINUING_WORDS`, `LEADING_WORDS`): a cut that leaves a sentence
 * unfinished is taken only when no other pause will do.
 */
function cueGroups(pieces: Piece[], limits: Limits): Unit[] {
  const maxGroupSeconds = limits.maxSpanSeconds / 4
  const pauseBefore = (index: number) => pieces[index]!.start - spokenEnd(pieces[index - 1]!, limits.pace)
  const units: Unit[] = []
  let from = 0
  // The first group starts where the sentence (or transcript) does; later ones after a pause, unless cut for length.
  let startsThought = true
  const continues = (index: number) => opensWithWordOf(pieces[index]!.text, limits.continuing)
  /** Whether the stretch of speech ending with piece `index` (since the last pause, within this group) leads on. */
  const leadsOn = (index: number) => {
    let first = index
    // The shortest silence that sets a clause apart: where the captions parser ends a segment too.
    while (first > from && pauseBefore(first) < MIN_PAUSE_SECONDS) first--
    const stretch = pieces.slice(first, index + 1).map((piece) => piece.text)
    return opensWithWordOf(stretch[0]!, limits.leading) && stretch.join(' ').split(' ').length <= MAX_LEADING_WORDS
  }
  /** Whether a cut before piece `index` would leave a sentence unfinished. */
  const unfinished = (index: number) => continues(index) || leadsOn(index - 1)
  const close = (to: number, nextAfterPause: boolean) => {
    units.push(
      join(pieces.slice(from, to), limits.pace, {
        startsThought,
        continues: from > 0 && continues(from),
        leadsOn: leadsOn(to - 1),
      }),
    )
    from = to
    startsThought = nextAfterPause
  }
  for (let index = 1; index < pieces.length; index++) {
    if (pauseBefore(index) >= limits.pauseSeconds) {
      close(index, true)
      continue
    }
    const tooLong =
      pieces[index]!.start - pieces[from]!.start > maxGroupSeconds ||
      pieces.slice(from, index + 1).reduce((length, piece) => length + piece.text.length + 1, -1) > limits.maxChars
    if (!tooLong) continue
    // The longest pause since the group began (the latest on a tie), so the next group starts where speech resumed.
    let cut = index
    for (let candidate = index - 1; candidate > from; candidate--)
      if (betterCut([unfinished(candidate), pauseBefore(candidate)], [unfinished(cut), pauseBefore(cut)]))
        cut = candidate
    close(cut, false)
  }
  if (from < pieces.length) close(pieces.length, true)
  return units
}

/**
 * Whether a cut, given as whether it leaves a sentence unfinished and the pause there, is
 * better than another: one between sentences beats one inside a sentence, then the longer
 * pause wins.
 */
const betterCut = ([unfinished, pause]: [boolean, number], [otherUnfinished, otherPause]: [boolean, number]) =>
  unfinished === otherUnfinished ? pause > otherPause : !unfinished

/**
 * Whole units into chunks. When the next unit does not fit, the chunk closes after the unit,
 * among those past half the span, followed by the longest pause (the latest on a tie), and
 * neither followed by a unit that continues a sentence nor a clause leading on to one, unless all are; the next chunk starts `overlapSentences`
 * units earlier when they fit beside a new one.
 */
function pack(
  units: Unit[],
  {
    maxSpanSeconds,
    maxChars,
    overlapSentences,
  }: { maxSpanSeconds: number; maxChars: number; overlapSentences: number },
): Chunk[] {
  const fits = (from: number, to: number) =>
    units[to]!.lastCueStart - units[from]!.start <= maxSpanSeconds &&
    units.slice(from, to + 1).reduce((length, unit) => length + unit.text.length + 1, -1) <= maxChars
  const pauseAfter = (index: number) =>
    index + 1 < units.length ? Math.max(0, units[index + 1]!.start - units[index]!.spokenEnd) : Number.POSITIVE_INFINITY
  // A cut there would leave a sentence unfinished: the next unit continues it, or this one leads on to it.
  const continuesAfter = (index: number) =>
    index + 1 < units.length && (units[index + 1]!.continues || units[index]!.leadsOn)
  const chunks: Chunk[] = []
  let from = 0
  let firstNew = 0
  while (firstNew < units.length) {
    let last = firstNew
    while (last + 1 < units.length && fits(from, last + 1)) last++
    if (last + 1 < units.length) {
      let best = last
      for (let candidate = last - 1; candidate >= firstNew; candidate--) {
        if (units[candidate]!.end - units[from]!.start < maxSpanSeconds / 2) break
        if (betterCut([continuesAfter(candidate), pauseAfter(candidate)], [continuesAfter(best), pauseAfter(best)]))
          best = candidate
      }
      last = best
    }
    chunks.push(chunkOf(units.slice(from, last + 1), chunks.length))
    firstNew = last + 1
    // The next chunk starts again with the last `overlapSentences` units, if the first of them
    // begins a thought (a sentence, or a cue group after a pause: one cut from the middle of
    // speech would start the chunk mid-sentence), and never with this chunk's first unit, or it
    // would hold all of this one.
    let back = Math.min(overlapSentences, last - from)
    while (
      back > 0 &&
      firstNew < units.length &&
      (!fits(firstNew - back, firstNew) || !units[firstNew - back]!.startsThought)
    )
      back--
    from = firstNew - back
  }
  return chunks
}

function chunkOf(units: Unit[], index: number): Chunk {
  const sentences: ChunkSentence[] = []
  let offset = 0
  for (const unit of units) {
    sentences.push({ offset, start: unit.start })
    offset += unit.text.length + 1
  }
  return {
    index,
    start: units[0]!.start,
    end: Math.max(...units.map((unit) => unit.end)),
    text: units.map((unit) => unit.text).join(' '),
    sentences,
  }
}

/** Times are interpolated by character position, as if the words were spoken at an even pace. */
function splitSegment(segment: TimedText, maxChars: number): TimedText[] {
  const pieces: { offset: number; text: string }[] = []
  for (const word of words(segment.text, maxChars)) {
    const last = pieces.at(-1)
    if (last && last.text.length + 1 + word.text.length <= maxChars) last.text += ` ${word.text}`
    else pieces.push({ offset: word.offset, text: word.text })
  }
  const timeAt = (offset: number) => segment.start + ((segment.end - segment.start) * offset) / segment.text.length
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
