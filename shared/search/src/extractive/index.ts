import { type Answer, type Citation, citePassage, NOTHING_FOUND, type SearchHit } from '@ytrag/domain'
import { splitSentences } from '@ytrag/transcript'
import { bestSentenceIndex, bestSentenceIndexes, queryTerms } from '../moment/index.ts'

/**
 * The sentence of a passage that best matches the question's terms (the earliest on a tie): the
 * same choice as the hit's moment, over the same sentences where the passage is punctuated.
 */
export function bestSentence(text: string, terms: string[]): string {
  const sentences = splitSentences(text).map((sentence) => sentence.text)
  return sentences[bestSentenceIndex(sentences, terms)] ?? text.trim()
}

/**
 * Each hit's sentence that best matches the question, chosen over all the hits as their moments
 * were: a word most of them say decides less.
 */
function bestSentences(question: string, hits: SearchHit[]): (string | undefined)[] {
  const sentences = hits.map((hit) => splitSentences(hit.text).map((sentence) => sentence.text))
  return bestSentenceIndexes(sentences, queryTerms(question)).map((best, index) => sentences[index]![best])
}

/**
 * The answer without a language model: the best passages in rank order, each quoted by what is
 * said at its moment (`quote`, which the search chose with the words the index searched for,
 * widened ones too) and cited as `[n]` with a deep link there. A hit without a quote (one made
 * elsewhere) is quoted by its sentence that best matches the question.
 *
 * @example
 * ```ts
 * const { answer, citations } = extractiveAnswer('what is a covering index?', hits, { maxPassages: 3 })
 * ```
 */
export function extractiveAnswer(question: string, hits: SearchHit[], options: { maxPassages?: number } = {}): Answer {
  const maxPassages = options.maxPassages ?? 3
  if (hits.length === 0) {
    return { answer: NOTHING_FOUND, mode: 'extractive', citations: [] }
  }
  const citations: Citation[] = hits.slice(0, maxPassages).map((hit, index) => citePassage(index + 1, hit))
  // The search chose each hit's quote already; only a hit without one needs its sentence chosen here.
  const chosen = citations.some((citation) => !citation.quote) ? bestSentences(question, hits) : []
  const lines = citations.map(
    (citation, index) => `- ${citation.quote || chosen[index] || citation.text.trim()} [${citation.n}]`,
  )
  return { answer: `From the videos:\n${lines.join('\n')}`, mode: 'extractive', citations }
}
