// The moment of a hit: the sentence of its chunk that best matches the question, and when it
// is said. Words are cut and stemmed by the index's own tokenizer, so the sentence chosen holds
// the words the chunk was found by.
import { analyzeQuery, tokenize, type ChunkSentence } from '@ytrag/stores'
import { LRUCache } from 'lru-cache'

/**
 * The question's words as the index stems them, once each, read as the index reads a query
 * (`analyzeQuery`: stop words out, other forms of a word in, so "built" also finds "build").
 *
 * @example
 * ```ts
 * queryTerms('What is caching in the indexes?') // ['cach', 'index']
 * ```
 */
export function queryTerms(text: string): string[] {
  return [...new Set(analyzeQuery(text).flatMap((term) => term.stems))]
}

/** Letters, digits and marks, as the tokenizer cuts words; Latin diacritics go first, as there. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu
const DIACRITICS = /[\u0300-\u036f]/g
const ASCII = /^\p{ASCII}*$/u

/**
 * Stems of words seen, so a common word is stemmed once, not on every hit. Made by the first
 * search, not when the module loads: lru-cache allocates its tables for `max` entries up front,
 * which a function's start would otherwise pay for (and carry through its first collections).
 */
let stemCache: LRUCache<string, string> | undefined

function stemOf(word: string): string {
  stemCache ??= new LRUCache<string, string>({ max: 50_000 })
  let stem = stemCache.get(word)
  if (stem === undefined) {
    stem = tokenize(word)[0] ?? word
    stemCache.set(word, stem)
  }
  return stem
}

/**
 * Finds the words of a text that may stem to one of the terms. A Porter stem keeps all but the
 * last two letters of its word, so a word that does not start with a term's first letters
 * cannot become it: only candidates are stemmed, which keeps the moment a small part of a
 * search. In ASCII text one regular expression finds them in a single pass.
 */
function candidateFinder(terms: string[]): CandidateFinder {
  // The hits of one search share their terms: the expression is compiled once for all of them.
  const key = terms.join(' ')
  let finder = finders.get(key)
  if (!finder) {
    finder = newCandidateFinder(terms)
    finders.set(key, finder)
  }
  return finder
}

/** Calls `found` with each candidate word (lower-cased) and where it is in the text. */
type CandidateFinder = (text: string, found: (index: number, word: string) => void) => void
const finders = new LRUCache<string, CandidateFinder>({ max: 256 })

function newCandidateFinder(terms: string[]): CandidateFinder {
  const prefixes = [...new Set(terms.map((term) => term.slice(0, Math.max(1, term.length - 2))))]
  const asciiPrefixes = prefixes.every((prefix) => /^[a-z0-9]+$/.test(prefix))
  const candidates = asciiPrefixes ? new RegExp(`(?<![a-z0-9])(?:${prefixes.join('|')})[a-z0-9]*`, 'gi') : undefined
  return (text, found) => {
    if (candidates && ASCII.test(text)) {
      candidates.lastIndex = 0
      for (let match = candidates.exec(text); match; match = candidates.exec(text))
        found(match.index, match[0].toLowerCase())
      return
    }
    // Folding may move offsets a little (NFD, then NFC); a word is still placed in its sentence or next to it.
    const folded = text.normalize('NFD').replace(DIACRITICS, '').normalize('NFC').toLowerCase()
    for (const match of folded.matchAll(WORD))
      if (prefixes.some((prefix) => match[0].startsWith(prefix))) found(match.index, match[0])
  }
}

/** The question's terms each sentence of a text (given by where each starts) holds. */
function termsHeld(text: string, offsets: number[], terms: string[]): Set<string>[] {
  const held = offsets.map(() => new Set<string>())
  if (terms.length === 0) return held
  let sentence = 0
  candidateFinder(terms)(text, (index, word) => {
    while (sentence + 1 < offsets.length && offsets[sentence + 1]! <= index) sentence++
    held[sentence]!.add(stemOf(word))
  })
  return held
}

/**
 * Which sentence of each passage (given by the terms its sentences hold) best matches `terms`:
 * each term a sentence holds counts more the fewer sentences of all the passages hold it (BM25's
 * IDF over the sentences at hand). A word every sentence says tells none apart; a word the
 * talk is about is said in most of a search's hits, so a rarer word of the question decides,
 * without counting words across the whole index (a count Qdrant does not give, and FTS5 only
 * at the price of a search). A sentence two overlapping hits share counts in each, as it does
 * in each of their chunks in the index. The earliest wins a tie, so with nothing matched it is
 * the first.
 */
function bestSentences(passages: Set<string>[][], groups: readonly (readonly string[])[]): number[] {
  const sentences = passages.reduce((sum, held) => sum + held.length, 0)
  const weights = groups.map((group) => {
    let holding = 0
    for (const held of passages) for (const words of held) if (group.some((term) => words.has(term))) holding++
    return holding > 0 ? Math.log(1 + sentences / holding) : 0
  })
  return passages.map((held) => {
    let best = 0
    let bestScore = 0
    held.forEach((words, index) => {
      let score = 0
      groups.forEach((group, at) => {
        if (group.some((term) => words.has(term))) score += weights[at]!
      })
      if (score > bestScore) {
        best = index
        bestScore = score
      }
    })
    return best
  })
}

/** Where each of `sentences` starts in them joined by spaces. */
function joinedOffsets(sentences: string[]): number[] {
  const offsets: number[] = []
  let length = 0
  for (const sentence of sentences) {
    offsets.push(length)
    length += sentence.length + 1
  }
  return offsets
}

/**
 * Which of `sentences` best matches `terms`, as a hit's moment is chosen.
 *
 * @example
 * ```ts
 * bestSentenceIndex(['Tables are big.', 'A covering index holds every column.'], queryTerms('what does a covering index hold')) // 1
 * ```
 */
export function bestSentenceIndex(sentences: string[], terms: string[]): number {
  return bestSentenceIndexes([sentences], terms)[0]!
}

/**
 * Which sentence of each passage best matches `terms`, as the moments of a search's hits are
 * chosen together: a term counts more the fewer sentences of all the passages hold it.
 *
 * @example
 * ```ts
 * bestSentenceIndexes([['Bread needs a starter.', 'Feed the starter daily.'], ['The starter is ready when bubbly.']], queryTerms('how often to feed the starter')) // [1, 0]
 * ```
 */
export function bestSentenceIndexes(passages: string[][], terms: string[]): number[] {
  return bestSentences(
    passages.map((sentences) => termsHeld(sentences.join(' '), joinedOffsets(sentences), terms)),
    terms.map((term) => [term]),
  )
}

/** A passage as the index gives it: its text, its start, and where its sentences start when it was indexed with them. */
export interface TimedPassage {
  text: string
  start: number
  end: number
  sentences?: ChunkSentence[]
}

/**
 * Where the passage's sentences start: its stored sentence starts, or, for a chunk indexed
 * without them, the passage's start. Offsets out of order or out of the text are skipped
 * rather than trusted, and no sentence starts before the chunk nor after it ends.
 */
export function sentenceStarts(passage: TimedPassage): ChunkSentence[] {
  const starts: ChunkSentence[] = []
  for (const sentence of passage.sentences ?? []) {
    const fits =
      Number.isFinite(sentence.offset) &&
      Number.isFinite(sentence.start) &&
      sentence.offset >= 0 &&
      sentence.offset < passage.text.length
    if (fits && sentence.offset > (starts.at(-1)?.offset ?? -1)) starts.push(sentence)
  }
  if (starts.length === 0 || starts[0]!.offset !== 0) starts.unshift({ offset: 0, start: passage.start })
  return starts.map(({ offset, start }) => ({ offset, start: Math.min(Math.max(start, passage.start), passage.end) }))
}

/** Where a passage answers a question: when it is said, and what is said from there. */
export interface Moment {
  /** The start of the sentence the link lands on, in seconds. */
  seconds: number
  /**
   * The words from there through the sentence that best matches: that sentence, or two when the
   * link went back to the one it leans on. What an answer quotes, so the quote is what the link plays.
   */
  sentence: string
}

/**
 * The moment of a passage for a question: the start of its sentence that best matches the
 * question (the passage's start when it has no sentence data), and that sentence. The question
 * may be given as its `queryTerms`, worked out once for many passages.
 *
 * @example
 * ```ts
 * momentOf({ text: 'Tables are big. Covering indexes hold every column.', start: 10, end: 20, sentences: [{ offset: 0, start: 10 }, { offset: 16, start: 13.2 }] }, 'what do covering indexes hold')
 * // { seconds: 13.2, sentence: 'Covering indexes hold every column.' }
 * ```
 */
export function momentOf(passage: TimedPassage, question: Question): Moment {
  return momentsOf([passage], question)[0]!
}

/**
 * The moments of a search's hits: each as `momentOf`, with the question's words weighed by how
 * few sentences of all the hits say them, so the word that sets the answer apart decides rather
 * than the word the talk is about.
 *
 * @example
 * ```ts
 * momentsOf(hits, 'why were high wheelers dangerous').map((moment) => moment.seconds) // [77.8, 71.3, …]
 * ```
 */
export function momentsOf(passages: readonly TimedPassage[], question: Question): Moment[] {
  return bestOf(passages, question).map(({ starts, best, through }, index) => {
    const { text } = passages[index]!
    return {
      seconds: starts[best]!.start,
      sentence: text.slice(starts[best]!.offset, starts[through + 1]?.offset ?? text.length).trim(),
    }
  })
}

/**
 * Words that open a sentence continuing the one before ("So a table with ten indexes writes
 * slowly", "Then the dough rests"): a consequence, whose cause the question may be asking for.
 */
const CONTINUES = /^(?:so|then|thus|therefore|but|and)\b/i

/** Words that stand for something said before: a passage cut mid-sentence opens with them after the part that says it. */
const REFERS_BACK = /^(?:this|these|that|those|it|its|they|their|them|he|she|his|her)\b/i

/**
 * A demonstrative that opens a sentence and the next two words ("This swarm hangs…", "These
 * high wheelers were…"): when they hold a word of the question, the sentence names what the
 * question asks about as known already, so it was told of in the sentence before. A pronoun or
 * a demonstrative ahead of new words ("It had no pedals", "These are the neap tides", "That
 * machine earned the name boneshaker") opens the sentence that says it: the link stays there.
 */
const DEMONSTRATIVE_OPENING = /^(?:this|these|that|those)\s+([\p{L}\p{N}\p{M}]+)(?:\s+([\p{L}\p{N}\p{M}]+))?/iu

/**
 * A sentence's end: a full stop, question or exclamation mark, maybe closed by a quote or bracket.
 * Written with escapes (\u2026 …, \u201D ”, \u2019 ’): one character past ASCII makes V8 hold the whole
 * bundled script as a two-byte string, which every start decodes, hashes and scans at twice the cost.
 */
const SENTENCE_END = /[.?!\u2026]["'\u201D\u2019)\]]*\s*$/u

/**
 * True when a passage's part (`text`, what follows it) leans on the part before it (`before`)
 * for the question's `terms`. Parts of unpunctuated captions are cue groups cut at pauses: one
 * opening with "this rest is called…" may be the second half of a sentence, so any word that
 * refers back sends the link to the part before.
 */
function leansBack(before: string, text: string, terms: string[]): boolean {
  const opening = text.trimStart()
  if (CONTINUES.test(opening)) return true
  if (!SENTENCE_END.test(before)) return REFERS_BACK.test(opening)
  const demonstrative = DEMONSTRATIVE_OPENING.exec(opening)
  if (!demonstrative) return false
  return [demonstrative[1], demonstrative[2]].some(
    (word) => word !== undefined && terms.includes(stemOf(word.normalize('NFD').replace(DIACRITICS, '').toLowerCase())),
  )
}

/** How far back a moment may move to the sentence a leaning one depends on. */
const MAX_LEAN_BACK_SECONDS = 8

/** A passage's sentence starts, which of them its moment is, and which best matches (the same, or the next). */
interface Choice {
  starts: ChunkSentence[]
  best: number
  through: number
}

/**
 * A question as the moment reads it: its text, its index terms (each counts on its own), or its
 * index terms by question word (`ChunkHit.queryTerms`: a word and the words the index widened it
 * to count once, whichever of them a sentence says).
 */
export type Question = string | readonly string[] | readonly (readonly string[])[]

function termGroups(question: Question): (readonly string[])[] {
  if (typeof question === 'string') return queryTerms(question).map((term) => [term])
  return question.map((entry) => (typeof entry === 'string' ? [entry] : entry))
}

function bestOf(passages: readonly TimedPassage[], question: Question): Choice[] {
  const groups = termGroups(question)
  const terms = [...new Set(groups.flat())]
  const starts = passages.map(sentenceStarts)
  const held = passages.map((passage, index) =>
    termsHeld(
      passage.text,
      starts[index]!.map((sentence) => sentence.offset),
      terms,
    ),
  )
  return bestSentences(held, groups).map((best, index) => {
    const passage = passages[index]!
    const sentences = starts[index]!
    // A link that starts after what the sentence refers to makes the viewer rewind; one sentence early does not.
    if (
      best > 0 &&
      leansBack(
        passage.text.slice(sentences[best - 1]!.offset, sentences[best]!.offset),
        passage.text.slice(sentences[best]!.offset, sentences[best]!.offset + 80),
        terms,
      ) &&
      sentences[best]!.start - sentences[best - 1]!.start <= MAX_LEAN_BACK_SECONDS
    )
      return { starts: sentences, best: best - 1, through: best }
    return { starts: sentences, best, through: best }
  })
}
