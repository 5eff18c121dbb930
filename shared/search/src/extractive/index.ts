import type { SearchHit } from '../search/index.ts'

export interface Citation {
  n: number
  videoId: string
  title: string
  start: number
  end: number
  url: string
  text: string
  /** The video's chapter the passage starts in, when the video has chapters. */
  chapter?: { title: string; start: number }
}

export interface Answer {
  answer: string
  mode: 'generative' | 'extractive'
  citations: Citation[]
}

const STOP_WORDS = new Set(
  'a an and are as at be but by did do does for from how i in is it its of on or so that the their there this to was what when where which who why will with you your about can'.split(' '),
)

/** Lower-cased words without stop words, with a crude stem so "caching" meets "cache". */
export function queryTerms(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((word) => !STOP_WORDS.has(word))
    .map((word) => word.replace(/(ing|ed|es|s)$/u, '') || word)
}

/** Splits a chunk into sentences, keeping the punctuation. */
function sentences(text: string): string[] {
  return (text.match(/[^.!?]+[.!?]*/g) ?? [text]).map((sentence) => sentence.trim()).filter(Boolean)
}

/** The sentence of a passage that shares the most terms with the question (earliest on a tie). */
export function bestSentence(text: string, terms: string[]): string {
  const wanted = new Set(terms)
  let best = ''
  let bestScore = -1
  for (const sentence of sentences(text)) {
    const score = new Set(queryTerms(sentence).filter((term) => wanted.has(term))).size
    if (score > bestScore) {
      best = sentence
      bestScore = score
    }
  }
  return best
}

/**
 * The answer without a language model: the best passages in rank order, each quoted by its
 * most relevant sentence and cited as `[n]` with a deep link to its moment.
 *
 * @example
 * ```ts
 * const { answer, citations } = extractiveAnswer('what is a covering index?', hits, { maxPassages: 3 })
 * ```
 */
export function extractiveAnswer(question: string, hits: SearchHit[], options: { maxPassages?: number } = {}): Answer {
  const maxPassages = options.maxPassages ?? 3
  if (hits.length === 0) {
    return { answer: 'No indexed video says anything about that yet.', mode: 'extractive', citations: [] }
  }
  const terms = queryTerms(question)
  const citations: Citation[] = hits.slice(0, maxPassages).map((hit, index) => ({
    n: index + 1,
    videoId: hit.videoId,
    title: hit.title,
    start: hit.start,
    end: hit.end,
    url: hit.url,
    text: hit.text,
    ...(hit.chapter ? { chapter: hit.chapter } : {}),
  }))
  const lines = citations.map((citation) => `- ${bestSentence(citation.text, terms)} [${citation.n}]`)
  return { answer: `From the videos:\n${lines.join('\n')}`, mode: 'extractive', citations }
}
