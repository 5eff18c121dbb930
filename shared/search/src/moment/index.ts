// The moment of a hit: the sentence of its chunk that best matches the question, and when it
// is said. Words are cut and stemmed by the index's own tokenizer, so the sentence chosen holds
// the words the chunk was found by.
import { tokenize, type ChunkSentence } from '@ytrag/stores'

/** Words that say how a question is asked rather than what about; they choose no sentence. */
const STOP_WORDS = new Set(
  tokenize(
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its me my of on or so than that the their them then there these they this those to us was we were what when where which who whom why will with would you your about',
  ),
)

/**
 * The question's words as the index stems them, without stop words, once each.
 *
 * @example
 * ```ts
 * queryTerms('What is caching in the indexes?') // ['cach', 'index']
 * ```
 */
export function queryTerms(text: string): string[] {
  return [...new Set(tokenize(text).filter((term) => !STOP_WORDS.has(term)))]
}

/** Letters, digits and marks, as the tokenizer cuts words; Latin diacritics go before the prefix test, as they do there. */
const WORD = /[\p{L}\p{N}\p{M}]+/gu
const DIACRITICS = /[\u0300-\u036f]/g

/**
 * Which of `terms` the sentence holds, stemming only the words that could stem to one of them:
 * a Porter stem keeps all but the last two letters of its word, so a word that does not start
 * with a term's first letters cannot become it. Stemming every word of every hit cost more
 * than the search itself.
 */
function termsHeld(sentence: string, terms: string[]): Set<string> {
  const prefixes = terms.map((term) => term.slice(0, Math.max(1, term.length - 2)))
  const folded = sentence.normalize('NFD').replace(DIACRITICS, '').normalize('NFC').toLowerCase()
  const candidates = (folded.match(WORD) ?? []).filter((word) => prefixes.some((prefix) => word.startsWith(prefix)))
  return new Set(candidates.length ? tokenize(candidates.join(' ')) : [])
}

/**
 * Which of `sentences` best matches `terms`: each term a sentence holds counts more the fewer
 * sentences hold it (a word every sentence says tells none apart). The earliest wins a tie, so
 * with nothing matched it is the first.
 *
 * @example
 * ```ts
 * bestSentenceIndex(['Tables are big.', 'A covering index holds every column.'], queryTerms('what does a covering index hold')) // 1
 * ```
 */
export function bestSentenceIndex(sentences: string[], terms: string[]): number {
  const held = sentences.map((sentence) => termsHeld(sentence, terms))
  const weights = terms.map((term) => {
    const holding = held.filter((words) => words.has(term)).length
    return holding === 0 ? 0 : Math.log(1 + sentences.length / holding)
  })
  let best = 0
  let bestScore = 0
  held.forEach((words, index) => {
    const score = terms.reduce((sum, term, i) => (words.has(term) ? sum + weights[i]! : sum), 0)
    if (score > bestScore) {
      best = index
      bestScore = score
    }
  })
  return best
}

/** A passage as the index gives it: its text, its start, and where its sentences start when it was indexed with them. */
export interface TimedPassage {
  text: string
  start: number
  end: number
  sentences?: ChunkSentence[]
}

/**
 * The passage's sentences with their times: from its stored sentence starts, or, for a chunk
 * indexed without them, the whole passage at its start. Offsets out of order or out of the
 * text are skipped rather than trusted.
 */
export function timedSentences(passage: TimedPassage): { text: string; start: number }[] {
  const starts = (passage.sentences ?? []).filter(
    (sentence, index, all) =>
      Number.isFinite(sentence.offset) &&
      Number.isFinite(sentence.start) &&
      sentence.offset >= 0 &&
      sentence.offset < passage.text.length &&
      (index === 0 || sentence.offset > all[index - 1]!.offset),
  )
  if (starts.length === 0 || starts[0]!.offset !== 0) starts.unshift({ offset: 0, start: passage.start })
  return starts.map((sentence, index) => ({
    text: passage.text.slice(sentence.offset, starts[index + 1]?.offset ?? passage.text.length).trim(),
    // A sentence is never said before the chunk starts nor after it ends.
    start: Math.min(Math.max(sentence.start, passage.start), passage.end),
  }))
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
export function momentOf(passage: TimedPassage, question: string | string[]): { seconds: number; sentence: string } {
  const sentences = timedSentences(passage)
  const terms = typeof question === 'string' ? queryTerms(question) : question
  const best = sentences[bestSentenceIndex(sentences.map((sentence) => sentence.text), terms)]!
  return { seconds: best.start, sentence: best.text }
}
